package dockscreen

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"evidock/agent"
)

// agentConstants returns the string constants that package agent declares
// with the named type (NoteCode, AlarmCode, Phase, State), by value, read
// from its source: a code added there without a text here fails
// TestEveryCodeIsSaid, with no list to keep in step by hand.
func agentConstants(t *testing.T, typeName string) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	out := map[string]string{} // value -> name
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != typeName {
					continue
				}
				for i, name := range vs.Names {
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						t.Fatalf("%s: constant %s is not a string literal", fset.Position(name.Pos()), name.Name)
					}
					v, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					if other, dup := out[v]; dup {
						t.Errorf("%s %s and %s are both %q", typeName, other, name.Name, v)
					}
					out[v] = name.Name
				}
			}
		}
	}
	return out
}

// TestEveryCodeIsSaid checks that every note code, alarm code, phase and
// state the agent can emit has a text in Chinese and in English, that the
// Chinese is Chinese and the English is not, and that no text is kept for a
// code the agent no longer has.
func TestEveryCodeIsSaid(t *testing.T) {
	for _, tt := range []struct {
		typeName string
		min      int // the agent has at least this many; guards against a parse that finds none
		texts    func(*Strings) map[string]string
	}{
		{"NoteCode", 20, func(s *Strings) map[string]string { return stringKeys(s.Notes) }},
		{"AlarmCode", 2, func(s *Strings) map[string]string { return stringKeys(s.Alarms) }},
		{"Phase", 5, func(s *Strings) map[string]string { return stringKeys(s.Phases) }},
		{"State", 11, func(s *Strings) map[string]string { return stringKeys(s.States) }},
	} {
		codes := agentConstants(t, tt.typeName)
		if len(codes) < tt.min {
			t.Errorf("found %d %s constants in package agent, want at least %d", len(codes), tt.typeName, tt.min)
		}
		for _, l := range Langs {
			texts := tt.texts(StringsFor(l))
			for code, name := range codes {
				text := texts[code]
				switch {
				case text == "":
					t.Errorf("agent.%s (%q) has no %s text", name, code, l)
				case l == Chinese && !hasHan(text):
					t.Errorf("agent.%s: the Chinese text %q is not Chinese", name, text)
				case l == English && hasHan(text):
					t.Errorf("agent.%s: the English text %q has Chinese in it", name, text)
				}
			}
			for code := range texts {
				if _, ok := codes[code]; !ok {
					t.Errorf("%s text for %s %q, which the agent does not have", l, tt.typeName, code)
				}
			}
		}
	}
}

// TestNotesSayWhatToDo checks that every Chinese note an officer may read
// on a failed or rejected file says what to do or that nothing needs doing,
// in the words the dock screen uses.
func TestNotesSayWhatToDo(t *testing.T) {
	actions := []string{"请联系管理员", "请重新插入", "请勿拔出", "无需", "自动", "已安全保存", "下次插入"}
	for code, text := range zhCN.Notes {
		ok := false
		for _, a := range actions {
			ok = ok || strings.Contains(text, a)
		}
		if !ok {
			t.Errorf("note %s %q says nothing about what to do", code, text)
		}
		if n := len([]rune(text)); n > 48 {
			t.Errorf("note %s is %d characters: too long for the dock screen", code, n)
		}
	}
}

func TestFormatCopyETA(t *testing.T) {
	for _, tt := range []struct {
		secs   float64
		zh, en string
	}{
		{-1, "", ""},
		{0, "", ""},
		{0.4, "可以拔出还需不到 1 分钟", "safe to unplug in under a minute"},
		{59.9, "可以拔出还需不到 1 分钟", "safe to unplug in under a minute"},
		{60, "可以拔出还需 ~1 分钟", "safe to unplug in ~1 min"},
		{61, "可以拔出还需 ~2 分钟", "safe to unplug in ~2 min"},
		{190.5, "可以拔出还需 ~4 分钟", "safe to unplug in ~4 min"},
		{3600, "可以拔出还需 ~60 分钟", "safe to unplug in ~60 min"},
	} {
		if got := FormatCopyETA(tt.secs, StringsFor(Chinese)); got != tt.zh {
			t.Errorf("FormatCopyETA(%v, zh-CN) = %q, want %q", tt.secs, got, tt.zh)
		}
		if got := FormatCopyETA(tt.secs, StringsFor(English)); got != tt.en {
			t.Errorf("FormatCopyETA(%v, en) = %q, want %q", tt.secs, got, tt.en)
		}
	}
	// Shown only while copying: a recorder that is uploading is safe now.
	st := fixture()
	if v := NewView(st, Chinese); v.Cards[0].CopyETA != "可以拔出还需 ~4 分钟" || v.Cards[1].CopyETA != "" {
		t.Errorf("copy ETAs %q, %q", v.Cards[0].CopyETA, v.Cards[1].CopyETA)
	}
	st.Recorders[0].Phase, st.Recorders[0].SafeToUnplug = agent.PhaseUploading, true
	if v := NewView(st, Chinese); v.Cards[0].CopyETA != "" {
		t.Errorf("copy ETA while uploading: %q", v.Cards[0].CopyETA)
	}
}

func stringKeys[K ~string](m map[K]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[string(k)] = v
	}
	return out
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}
