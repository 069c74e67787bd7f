package registry

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// TestBuiltOnlyByConstructors: outside this package no code writes a
// Registry as a composite literal (registry.Registry{...}, or an element
// of a []registry.Registry or map[...]registry.Registry literal); it is
// made by Parse, ParseHost, ForAccount, Own and the like, so a new field
// cannot be left unset somewhere (the pkg/name style).
func TestBuiltOnlyByConstructors(t *testing.T) {
	root := filepath.Join("..", "..")
	isRegistry := func(e ast.Expr) bool {
		s, ok := e.(*ast.SelectorExpr)
		if !ok {
			return false
		}
		x, ok := s.X.(*ast.Ident)
		return ok && x.Name == "registry" && s.Sel.Name == "Registry"
	}
	fset := token.NewFileSet()
	var files int
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name != ".." && name != "." && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			if filepath.Clean(path) == filepath.Join(root, "internal", "registry") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files++
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.CompositeLit)
			if !ok {
				return true
			}
			if isRegistry(lit.Type) {
				t.Errorf("%s: a registry.Registry literal; use a constructor of package registry", fset.Position(lit.Pos()))
			}
			var elt ast.Expr
			switch typ := lit.Type.(type) {
			case *ast.ArrayType:
				elt = typ.Elt
			case *ast.MapType:
				elt = typ.Value
			}
			if elt != nil && isRegistry(elt) {
				for _, e := range lit.Elts {
					if kv, ok := e.(*ast.KeyValueExpr); ok {
						e = kv.Value
					}
					if inner, ok := e.(*ast.CompositeLit); ok && inner.Type == nil {
						t.Errorf("%s: a registry.Registry literal; use a constructor of package registry", fset.Position(inner.Pos()))
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 100 {
		t.Fatalf("read %d Go files under %s; the walk missed the module", files, root)
	}
}
