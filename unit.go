package evidock

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// UnitLevel is a unit's place in the bureau's tree: the city bureau at the
// top, its districts (辖市区) below, and the enforcement units of each
// district below them. Art. 23 has the city bureau score each district, so
// every unit must sit in exactly one district.
type UnitLevel string

// Unit levels, from the top of the tree down.
const (
	UnitBureau   UnitLevel = "bureau"   // 市人社局
	UnitDistrict UnitLevel = "district" // 辖市区人社局
	UnitTeam     UnitLevel = "unit"     // 执法单位 (大队、中队)
)

var unitLevelLabels = map[UnitLevel]string{
	UnitBureau:   "市局",
	UnitDistrict: "辖市区",
	UnitTeam:     "执法单位",
}

// UnitLevels returns every level, from the top of the tree down.
func UnitLevels() []UnitLevel { return []UnitLevel{UnitBureau, UnitDistrict, UnitTeam} }

// Valid reports whether l is one of UnitLevels.
func (l UnitLevel) Valid() bool { _, ok := unitLevelLabels[l]; return ok }

// Label returns the Chinese name of the level, or the code itself for an
// unknown level.
func (l UnitLevel) Label() string { return labelOf(unitLevelLabels, l) }

// ParentLevel returns the level a unit of level l must hang under, and
// false for the bureau, which has no parent.
func (l UnitLevel) ParentLevel() (UnitLevel, bool) {
	switch l {
	case UnitDistrict:
		return UnitBureau, true
	case UnitTeam:
		return UnitDistrict, true
	}
	return "", false
}

// MaxUnitCodeLen bounds a unit code.
const MaxUnitCodeLen = 32

// Unit is one organisation in the bureau's tree. Its Code is its stable
// identity (recorders report it as unit_no); names change, codes do not.
type Unit struct {
	Code       string    `json:"code"`
	Name       string    `json:"name"`
	Level      UnitLevel `json:"level"`
	ParentCode string    `json:"parent_code,omitempty"` // "" only for a bureau
	CreatedAt  time.Time `json:"created_at"`
}

// Validate returns an EINVALID error naming the first malformed field. It
// cannot check that the parent exists and has the right level; the store
// does.
func (u *Unit) Validate() error {
	switch {
	case !isCode(u.Code, MaxUnitCodeLen):
		return Errorf(EINVALID, "unit: code %q must be 1 to %d letters, digits, '-' or '_'", u.Code, MaxUnitCodeLen)
	case !isText(u.Name, 1, 100):
		return Errorf(EINVALID, "unit: name must be 1 to 100 characters without control characters, got %q", u.Name)
	case !u.Level.Valid():
		return Errorf(EINVALID, "unit: level %q is unknown; use %s", u.Level, joinCodes(UnitLevels()))
	}
	parent, hasParent := u.Level.ParentLevel()
	switch {
	case !hasParent && u.ParentCode != "":
		return Errorf(EINVALID, "unit: parent_code must be empty for a %s (the top of the tree), got %q", u.Level, u.ParentCode)
	case hasParent && u.ParentCode == "":
		return Errorf(EINVALID, "unit: parent_code is required for a %s: name its %s", u.Level, parent)
	case u.ParentCode == u.Code:
		return Errorf(EINVALID, "unit: parent_code %q is the unit itself", u.ParentCode)
	}
	return nil
}

// UnitNode is a unit with the units under it, for showing the tree.
type UnitNode struct {
	*Unit
	Children []*UnitNode `json:"children"`
}

// BuildUnitTree arranges units into trees: one per unit whose parent is not
// among them (normally the one bureau), children in code order. It never
// returns nil.
func BuildUnitTree(units []*Unit) []*UnitNode {
	nodes := make(map[string]*UnitNode, len(units))
	for _, u := range units {
		nodes[u.Code] = &UnitNode{Unit: u, Children: []*UnitNode{}}
	}
	roots := []*UnitNode{}
	for _, u := range units {
		n := nodes[u.Code]
		if p, ok := nodes[u.ParentCode]; ok && u.ParentCode != "" {
			p.Children = append(p.Children, n)
		} else {
			roots = append(roots, n)
		}
	}
	var sortTree func([]*UnitNode)
	sortTree = func(ns []*UnitNode) {
		slices.SortFunc(ns, func(a, b *UnitNode) int { return strings.Compare(a.Code, b.Code) })
		for _, n := range ns {
			sortTree(n.Children)
		}
	}
	sortTree(roots)
	return roots
}

// UnitService keeps the bureau's tree of units.
type UnitService interface {
	// CreateUnit stores u, fills in its CreatedAt, and appends ev to the
	// audit log in the same transaction, so that a unit never exists
	// without the record of who created it. It sets ev's Object to
	// "unit:CODE" and its Unit to the new unit's path (e.g.
	// "CZ/CZ-TN/CZ-TN-1"), so that those who read the audit of the
	// parent read it; the caller fills in who, from where and why. It
	// returns EINVALID for a malformed unit or a parent that is unknown
	// or of the wrong level, ECONFLICT if the code is taken, and
	// EINTERNAL for a nil ev; on any error it stores and appends nothing.
	CreateUnit(ctx context.Context, u *Unit, ev *AuditEvent) error

	// FindUnit returns the unit with the code, or ENOTFOUND.
	FindUnit(ctx context.Context, code string) (*Unit, error)

	// FindUnits returns every unit, parents before their children and in
	// code order among siblings; never a nil slice.
	FindUnits(ctx context.Context) ([]*Unit, error)
}

// labelOf returns the label of v in labels, or v itself if it has none.
func labelOf[T ~string](labels map[T]string, v T) string {
	if l, ok := labels[v]; ok {
		return l
	}
	return string(v)
}

// joinCodes lists codes for a message: "a, b or c".
func joinCodes[T ~string](codes []T) string {
	var b strings.Builder
	for i, c := range codes {
		switch {
		case i == 0:
		case i == len(codes)-1:
			b.WriteString(" or ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(string(c))
	}
	return b.String()
}

// isCode reports whether s is 1 to max ASCII letters, digits, '-' or '_'.
func isCode(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// isText reports whether s is valid UTF-8 of min to max characters, none of
// them a control character, and not only spaces.
func isText(s string, min, max int) bool {
	n := utf8.RuneCountInString(s)
	if !utf8.ValidString(s) || n < min || n > max || (min > 0 && strings.TrimSpace(s) == "") {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return false
		}
	}
	return true
}

// isLongText is isText allowing line breaks and tabs, for notes and
// reasons.
func isLongText(s string, min, max int) bool {
	return isText(strings.NewReplacer("\n", " ", "\r", " ", "\t", " ").Replace(s), min, max)
}
