package problem

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestShorten(t *testing.T) {
	long := strings.Repeat("abcdefghij", 10) // 100 bytes
	utf := strings.Repeat("é", 30)           // 60 bytes, 2 per rune
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"short", 40, "short"},
		{long[:40], 40, long[:40]},
		{long, 40, "abcdefghijab… (100 characters)"},
		{long, 256, long},
		{utf, 40, strings.Repeat("é", 6) + "… (60 characters)"},
		{"é" + long, 40, "éabcdefghij… (102 characters)"},
	}
	for _, tt := range tests {
		got := Shorten(tt.in, tt.max)
		if got != tt.want {
			t.Errorf("Shorten(%.20q…, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
		if !utf8.ValidString(got) {
			t.Errorf("Shorten(%.20q…, %d) cut a character in two: %q", tt.in, tt.max, got)
		}
	}
}
