package fuzzcheck

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// writesItself lists, by import path, what writes to the process's stdout
// or stderr without going through a writer the program was handed: the
// standard streams, the standard logger's and slog's printing functions,
// fmt's Print family. "*" means every use of the package's name.
var writesItself = map[string][]string{
	"os":       {"Stdout", "Stderr"},
	"log":      {"Print", "Printf", "Println", "Fatal", "Fatalf", "Fatalln", "Panic", "Panicf", "Panicln", "Default", "Writer", "Output"},
	"log/slog": {"Debug", "DebugContext", "Info", "InfoContext", "Warn", "WarnContext", "Error", "ErrorContext", "Log", "LogAttrs", "Default"},
	"fmt":      {"Print", "Printf", "Println"},
	"syscall":  {"Stdout", "Stderr"},
}

// allowedStdio are the files that may name the process's streams: main.go
// hands them to the program (app.Env), whose console is the only writer.
var allowedStdio = map[string]bool{"main.go": true}

// TestNothingWritesToStdioButTheConsole: no product package (everything
// but internal/testing, internal/devtools and test files) names os.Stdout
// or os.Stderr, prints with fmt.Print*, log.Print*/Fatal*/Panic* or slog's
// package functions, or uses print/println: every line people read goes
// through the writers main.go hands over, and so through the console.
func TestNothingWritesToStdioButTheConsole(t *testing.T) {
	root := moduleRoot(t)
	fset := token.NewFileSet()
	checked := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == "internal/testing" || rel == "internal/devtools" || strings.HasPrefix(d.Name(), ".") && rel != "." || d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") || allowedStdio[rel] {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		checked++
		names := map[string]string{} // local name -> import path, for the packages of writesItself
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if _, ok := writesItself[path]; !ok {
				continue
			}
			name := path[strings.LastIndex(path, "/")+1:]
			if imp.Name != nil {
				name = imp.Name.Name
			}
			names[name] = path
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr:
				id, ok := n.X.(*ast.Ident)
				if !ok {
					return true
				}
				path, ok := names[id.Name]
				if !ok {
					return true
				}
				for _, sel := range writesItself[path] {
					if n.Sel.Name == sel {
						t.Errorf("%s: %s.%s writes to the process's stdout or stderr itself; write through the console (internal/output) or the Env's writers", fset.Position(n.Pos()), path, sel)
					}
				}
			case *ast.CallExpr:
				if id, ok := n.Fun.(*ast.Ident); ok && (id.Name == "print" || id.Name == "println") {
					t.Errorf("%s: the builtin %s writes to stderr itself", fset.Position(n.Pos()), id.Name)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Errorf("only %d product files checked; the walk missed the code", checked)
	}
}
