//go:build !windows

package securefile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestReadRegular (issue 21, finding 9): only regular files are read, and
// at most the limit: a named pipe with no writer and a device give an
// error at once instead of blocking or reading without end.
func TestReadRegular(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "regular")
	if err := os.WriteFile(regular, []byte("content"), 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, make([]byte, 101), 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(regular, link); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		path     string
		noFollow bool
		want     string // content, or with wantErr the error's text
		wantErr  error
	}{
		{"regular file", regular, false, "content", nil},
		{"link to a regular file", link, false, "content", nil},
		{"link, not followed", link, true, "symbolic link", ErrNotRegular},
		{"named pipe without a writer", fifo, false, "named pipe", ErrNotRegular},
		{"device without end", "/dev/zero", false, "character device", ErrNotRegular},
		{"directory", dir, false, "directory", ErrNotRegular},
		{"larger than the limit", big, false, "more than the 100", ErrTooLarge},
		{"missing", filepath.Join(dir, "missing"), false, "", fs.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			read := ReadRegular
			if tt.noFollow {
				read = ReadRegularNoFollow
			}
			if !tt.noFollow && tt.wantErr != ErrTooLarge {
				// CheckRegular agrees, without reading.
				if err := CheckRegular(tt.path); (err == nil) != (tt.wantErr == nil) || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Errorf("CheckRegular: %v, want %v", err, tt.wantErr)
				}
			}
			data, _, err := read(tt.path, 100)
			if tt.wantErr == nil {
				if err != nil || string(data) != tt.want {
					t.Fatalf("got %q, %v; want %q", data, err, tt.want)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v; want %v mentioning %q", err, tt.wantErr, tt.want)
			}
		})
	}
}
