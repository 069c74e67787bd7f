package ghrunner

import (
	"reflect"
	"slices"
	"testing"
)

func TestParseWorkflowCommands(t *testing.T) {
	type cmd = Command
	p := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name string
		in   string
		want []Command
	}{
		{name: "no commands", in: "hello\nworld\n", want: nil},
		{name: "add-mask", in: "::add-mask::abc123\n", want: []cmd{{Name: "add-mask", Properties: p(), Data: "abc123", Line: 1}}},
		{name: "line numbers count plain lines", in: "x\ny\n::debug::hi\n", want: []cmd{{Name: "debug", Properties: p(), Data: "hi", Line: 3}}},
		{name: "leading white space allowed", in: "  \t::notice::n\n", want: []cmd{{Name: "notice", Properties: p(), Data: "n", Line: 1}}},
		{name: "text before :: is not a command", in: "x ::error::e\n", want: nil},
		{name: "unknown command ignored", in: "::frobnicate::x\n::set-output name=a::b\n", want: []cmd{{Name: "set-output", Properties: p("name", "a"), Data: "b", Line: 2}}},
		{name: "name case-insensitive", in: "::ADD-MASK::v\n", want: []cmd{{Name: "ADD-MASK", Properties: p(), Data: "v", Line: 1}}},
		{name: "missing second separator", in: "::error file=a\n", want: nil},
		{name: "empty data", in: "::endgroup::\n", want: []cmd{{Name: "endgroup", Properties: p(), Data: "", Line: 1}}},
		{name: "data unescaping", in: "::error::a%0Ab%0Dc%25d%3Ae%2Cf\n", want: []cmd{{Name: "error", Properties: p(), Data: "a\nb\rc%d%3Ae%2Cf", Line: 1}}},
		{name: "escaped percent is not unescaped twice", in: "::add-mask::%250A\n", want: []cmd{{Name: "add-mask", Properties: p(), Data: "%0A", Line: 1}}},
		{name: "escapes are case-sensitive", in: "::add-mask::%0a\n", want: []cmd{{Name: "add-mask", Properties: p(), Data: "%0a", Line: 1}}},
		{name: "data keeps later ::", in: "::warning::a::b\n", want: []cmd{{Name: "warning", Properties: p(), Data: "a::b", Line: 1}}},
		{
			name: "properties with escapes",
			in:   "::error file=app.go,line=10,title=a%3Ab%2Cc%0Ad::boom\n",
			want: []cmd{{Name: "error", Properties: p("file", "app.go", "line", "10", "title", "a:b,c\nd"), Data: "boom", Line: 1}},
		},
		{
			name: "property pairs without key or value dropped",
			in:   "::error a=,=b,c,,d=1::m\n",
			want: []cmd{{Name: "error", Properties: p("d", "1"), Data: "m", Line: 1}},
		},
		{
			name: "property value split like .NET RemoveEmptyEntries",
			in:   "::error a==x,=k=v::m\n",
			want: []cmd{{Name: "error", Properties: p("a", "x", "k", "v"), Data: "m", Line: 1}},
		},
		{
			name: "repeated key keeps first spelling and last value",
			in:   "::error File=a,file=b::m\n",
			want: []cmd{{Name: "error", Properties: p("File", "b"), Data: "m", Line: 1}},
		},
		{
			name: "properties trimmed",
			in:   "::error   file=a  ::m\n",
			want: []cmd{{Name: "error", Properties: p("file", "a"), Data: "m", Line: 1}},
		},
		{name: "CRLF and lone CR end lines", in: "::debug::a\r\n::debug::b\r::debug::c", want: []cmd{
			{Name: "debug", Properties: p(), Data: "a", Line: 1},
			{Name: "debug", Properties: p(), Data: "b", Line: 2},
			{Name: "debug", Properties: p(), Data: "c", Line: 3},
		}},
		{name: "legacy form", in: "log ##[set-output name=x;other=%3B%5D]v%5D\n", want: []cmd{
			{Name: "set-output", Properties: p("name", "x", "other", ";]"), Data: "v]", Line: 1},
		}},
		{name: "legacy unknown ignored", in: "##[section]Starting\n", want: nil},
		{
			name: "stop-commands pauses until token",
			in:   "::stop-commands::pause-tok-1\n::add-mask::hidden\n::error::nope\n::pause-tok-1::\n::add-mask::shown\n",
			want: []cmd{
				{Name: "stop-commands", Properties: p(), Data: "pause-tok-1", Line: 1},
				{Name: "add-mask", Properties: p(), Data: "shown", Line: 5},
			},
		},
		{
			name: "stop token matched without regard to case",
			in:   "::stop-commands::Tok123\n::debug::x\n::TOK123::\n::debug::y\n",
			want: []cmd{
				{Name: "stop-commands", Properties: p(), Data: "Tok123", Line: 1},
				{Name: "debug", Properties: p(), Data: "y", Line: 4},
			},
		},
		{
			name: "stop token that is a command name is refused",
			in:   "::stop-commands::debug\n::debug::still-processed\n",
			want: []cmd{
				{Name: "stop-commands", Properties: p(), Data: "debug", Line: 1},
				{Name: "debug", Properties: p(), Data: "still-processed", Line: 2},
			},
		},
		{
			name: "empty stop token is refused",
			in:   "::stop-commands::\n::debug::x\n",
			want: []cmd{
				{Name: "stop-commands", Properties: p(), Data: "", Line: 1},
				{Name: "debug", Properties: p(), Data: "x", Line: 2},
			},
		},
		{
			name: "never resumed",
			in:   "::stop-commands::abcdefgh\n::add-mask::x\n",
			want: []cmd{{Name: "stop-commands", Properties: p(), Data: "abcdefgh", Line: 1}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ParseWorkflowCommands(tc.in)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ParseWorkflowCommands(%q)\n got %+v\nwant %+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestCommandProperty(t *testing.T) {
	cmds := ParseWorkflowCommands("::error endLine=4,Title=t::x\n")
	if len(cmds) != 1 {
		t.Fatalf("got %d commands, want 1", len(cmds))
	}
	for _, tc := range []struct {
		key, want string
		ok        bool
	}{
		{"endline", "4", true},
		{"ENDLINE", "4", true},
		{"title", "t", true},
		{"file", "", false},
	} {
		got, ok := cmds[0].Property(tc.key)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Property(%q) = %q, %v; want %q, %v", tc.key, got, ok, tc.want, tc.ok)
		}
	}
}

func TestMaskedValues(t *testing.T) {
	out := "::add-mask::one\n::add-mask::  \n::add-mask::multi%0A line two %0A\nplain\n::debug::not a mask\n"
	got := MaskedValues(out)
	want := []string{"one", "multi\n line two \n", "multi", "line two"}
	if !slices.Equal(got, want) {
		t.Fatalf("MaskedValues = %q, want %q", got, want)
	}
}

func TestDotNetSplit(t *testing.T) {
	tests := []struct {
		s     string
		count int
		want  []string
	}{
		{"a=b", 2, []string{"a", "b"}},
		{"a=b=c", 2, []string{"a", "b=c"}},
		{"a==b", 2, []string{"a", "b"}},
		{"=b", 2, []string{"b"}},
		{"=a=b", 2, []string{"a", "b"}},
		{"a=", 2, []string{"a"}},
		{"", 2, nil},
		{",a,,b,", -1, []string{"a", "b"}},
		{"abc", -1, []string{"abc"}},
	}
	for _, tc := range tests {
		sep := "="
		if tc.count < 0 {
			sep = ","
		}
		if got := dotNetSplit(tc.s, sep, tc.count); !slices.Equal(got, tc.want) {
			t.Errorf("dotNetSplit(%q, %q, %d) = %q, want %q", tc.s, sep, tc.count, got, tc.want)
		}
	}
}

func TestErrors(t *testing.T) {
	out := "log\n::warning::w\n::error title=x::first\n::debug::d\n::error::second\n"
	errs := Errors(out)
	if len(errs) != 2 || errs[0].Data != "first" || errs[1].Data != "second" {
		t.Errorf("Errors = %+v", errs)
	}
	if title, _ := errs[0].Property("title"); title != "x" {
		t.Errorf("title = %q", title)
	}
	if len(Errors("nothing here\n")) != 0 {
		t.Error("errors found in plain output")
	}
}
