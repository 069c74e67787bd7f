package ghrunner

import (
	"maps"
	"strings"
	"testing"
)

func TestParseFileCommands(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    map[string]string
		wantErr string // substring; "" means success
	}{
		{name: "empty file", in: "", want: map[string]string{}},
		{name: "only newlines", in: "\n\n\n", want: map[string]string{}},
		{name: "simple", in: "registry=123.dkr.example\n", want: map[string]string{"registry": "123.dkr.example"}},
		{name: "no final newline", in: "a=1\nb=2", want: map[string]string{"a": "1", "b": "2"}},
		{name: "blank lines skipped", in: "\na=1\n\n\nb=2\n\n", want: map[string]string{"a": "1", "b": "2"}},
		{name: "empty value", in: "a=\n", want: map[string]string{"a": ""}},
		{name: "split at first equals", in: "a==x\nb=c=d\ne=f=\n", want: map[string]string{"a": "=x", "b": "c=d", "e": "f="}},
		{name: "empty name is accepted like the runner", in: "=orphan\n", want: map[string]string{"": "orphan"}},
		{name: "last value wins", in: "a=1\na=2\n", want: map[string]string{"a": "2"}},
		{name: "spaces are kept", in: " a = b \n", want: map[string]string{" a ": " b "}},
		{name: "CR is part of the value on Linux", in: "a=1\r\nb=2\r\n", want: map[string]string{"a": "1\r", "b": "2\r"}},
		{name: "equals before heredoc marker is simple", in: "a=b<<EOF\n", want: map[string]string{"a": "b<<EOF"}},
		{name: "UTF-8 BOM dropped", in: "\xEF\xBB\xBFa=1\n", want: map[string]string{"a": "1"}},

		{name: "heredoc", in: "password<<ghadelim_1\nfirst\nsecond\nghadelim_1\n", want: map[string]string{"password": "first\nsecond"}},
		{name: "heredoc at end without newline", in: "p<<END\nx\nEND", want: map[string]string{"p": "x"}},
		{name: "heredoc empty value", in: "p<<END\nEND\n", want: map[string]string{"p": ""}},
		{name: "heredoc single empty line reads as empty", in: "p<<END\n\nEND\n", want: map[string]string{"p": ""}},
		{name: "heredoc keeps inner and trailing empty lines", in: "p<<END\nx\n\ny\n\nEND\n", want: map[string]string{"p": "x\n\ny\n"}},
		{name: "heredoc delimiter may contain = after <<", in: "p<<=X\nv\n=X\n", want: map[string]string{"p": "v"}},
		{name: "heredoc delimiter may start with <", in: "p<<<X\nv\n<X\n", want: map[string]string{"p": "v"}},
		{name: "heredoc value may contain =", in: "p<<X\nk=v\nX\n", want: map[string]string{"p": "k=v"}},
		{name: "heredoc delimiter must match exactly", in: "p<<X\n X\nX \nX\n", want: map[string]string{"p": " X\nX "}},
		{name: "heredoc then simple", in: "a<<X\n1\nX\nb=2\n", want: map[string]string{"a": "1", "b": "2"}},
		{name: "heredoc value of 2 KB", in: "t<<X\n" + strings.Repeat("Q", 2048) + "\nX\n", want: map[string]string{"t": strings.Repeat("Q", 2048)}},
		{name: "heredoc CR stays", in: "a<<X\r\nv\r\nX\r\n", want: map[string]string{"a": "v\r"}},

		{name: "neither form", in: "just some text\n", wantErr: "neither NAME=VALUE nor NAME<<DELIMITER"},
		{name: "heredoc without name", in: "<<EOF\nx\nEOF\n", wantErr: "both non-empty"},
		{name: "heredoc without delimiter", in: "name<<\nx\n\n", wantErr: "both non-empty"},
		{name: "heredoc delimiter missing", in: "name<<EOF\nx\ny\n", wantErr: "no closing delimiter"},
		{name: "heredoc delimiter with trailing CR does not match", in: "a<<X\r\nv\r\nX\n", wantErr: "no closing delimiter"},
		{name: "heredoc last line without newline", in: "name<<EOF\nx\ny", wantErr: "without a newline"},
		{name: "space-joined heredoc", in: "name<<EOF one two EOF", wantErr: "no closing delimiter"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseFileCommands([]byte(tc.in))
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("ParseFileCommands(%q) = %q, want an error containing %q", tc.in, got, tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %q does not contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseFileCommands(%q): %v", tc.in, err)
			}
			if !maps.Equal(got, tc.want) {
				t.Fatalf("ParseFileCommands(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// Errors must not echo values: a GITHUB_OUTPUT line may hold a password.
func TestParseFileCommandsErrorsWithholdValues(t *testing.T) {
	const secret = "s3cr3t-pa55w0rd-value"
	for _, in := range []string{
		secret + "\n",
		"password<<EOF\n" + secret + "\n",
		"password<<EOF\n" + secret,
	} {
		_, err := ParseFileCommands([]byte(in))
		if err == nil {
			t.Fatalf("ParseFileCommands(%d bytes) succeeded, want an error", len(in))
		}
		if strings.Contains(err.Error(), secret) {
			t.Fatalf("error message repeats the value: %v", err)
		}
	}
}

func FuzzParseFileCommands(f *testing.F) {
	f.Add([]byte("a=1\nb<<X\nv\nX\n"))
	f.Add([]byte("b<<X\nv"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ParseFileCommands(data)
		if err != nil {
			return
		}
		// Every heredoc value, written back with a fresh delimiter, parses
		// to the same map.
		var b strings.Builder
		for k, v := range got {
			if k == "" || strings.ContainsAny(k, "=<\n") {
				return
			}
			b.WriteString(k + "<<FUZZ_DELIM_7f3a\n" + v + "\nFUZZ_DELIM_7f3a\n")
			if strings.Contains(v, "FUZZ_DELIM_7f3a") || v == "" || strings.HasSuffix(v, "\n") {
				return // not representable this way; the runner has the same limit
			}
		}
		again, err := ParseFileCommands([]byte(b.String()))
		if err != nil {
			t.Fatalf("re-encoded file does not parse: %v", err)
		}
		if !maps.Equal(got, again) {
			t.Fatalf("round trip changed values: %q -> %q", got, again)
		}
	})
}
