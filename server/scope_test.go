package server_test

import (
	"context"
	"sync"
	"testing"

	"evidock"
	"evidock/server"
)

// units is a UnitService over a map that counts its lookups; a fake,
// because no store lets a test make the cycle a damaged table would hold.
type units struct {
	mu      sync.Mutex
	byCode  map[string]*evidock.Unit
	lookups int
}

func (u *units) CreateUnit(_ context.Context, x *evidock.Unit, _ *evidock.AuditEvent) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.byCode[x.Code] = x
	return nil
}

func (u *units) FindUnit(_ context.Context, code string) (*evidock.Unit, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.lookups++
	if x, ok := u.byCode[code]; ok {
		return x, nil
	}
	return nil, evidock.Errorf(evidock.ENOTFOUND, "unit %s does not exist", code)
}

func (u *units) FindUnits(context.Context) ([]*evidock.Unit, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	var all []*evidock.Unit
	for _, x := range u.byCode {
		all = append(all, x)
	}
	return all, nil
}

func TestUnitPaths(t *testing.T) {
	ctx := context.Background()
	u := &units{byCode: map[string]*evidock.Unit{
		"CZ":      {Code: "CZ", Level: evidock.UnitBureau},
		"CZ-TN":   {Code: "CZ-TN", Level: evidock.UnitDistrict, ParentCode: "CZ"},
		"CZ-TN-1": {Code: "CZ-TN-1", Level: evidock.UnitTeam, ParentCode: "CZ-TN"},
		// A damaged table: two units each the other's parent.
		"X": {Code: "X", Level: evidock.UnitDistrict, ParentCode: "Y"},
		"Y": {Code: "Y", Level: evidock.UnitDistrict, ParentCode: "X"},
	}}
	p := server.NewUnitPaths(u)
	if got, err := p.Path(ctx, "CZ-TN-1"); err != nil || got != "CZ/CZ-TN/CZ-TN-1" {
		t.Fatalf("Path = %q, %v", got, err)
	}
	if u.lookups != 3 {
		t.Fatalf("%d lookups for a path three units long", u.lookups)
	}
	// Found paths are remembered: a unit's place never changes.
	if got, err := p.Path(ctx, "CZ-TN-1"); err != nil || got != "CZ/CZ-TN/CZ-TN-1" || u.lookups != 3 {
		t.Fatalf("Path again = %q, %v after %d lookups; want no new lookup", got, err, u.lookups)
	}
	// Unknown ones are not: another server may create the unit.
	if _, err := p.Path(ctx, "CZ-TN-2"); evidock.ErrorCode(err) != evidock.ENOTFOUND {
		t.Fatalf("Path(unknown) = %v; want ENOTFOUND", err)
	}
	u.CreateUnit(ctx, &evidock.Unit{Code: "CZ-TN-2", Level: evidock.UnitTeam, ParentCode: "CZ-TN"}, &evidock.AuditEvent{})
	if got, err := p.Path(ctx, "CZ-TN-2"); err != nil || got != "CZ/CZ-TN/CZ-TN-2" {
		t.Fatalf("Path of a unit created since = %q, %v", got, err)
	}
	if _, err := p.Path(ctx, "X"); evidock.ErrorCode(err) != evidock.EINTERNAL {
		t.Fatalf("Path in a cycle = %v; want EINTERNAL, not a loop", err)
	}
	if _, err := p.All(ctx); evidock.ErrorCode(err) != evidock.EINTERNAL {
		t.Fatalf("All with a cycle = %v; want EINTERNAL", err)
	}
	delete(u.byCode, "X")
	delete(u.byCode, "Y")
	all, err := p.All(ctx)
	if err != nil || len(all) != 4 || all["CZ-TN"] != "CZ/CZ-TN" || all["CZ"] != "CZ" {
		t.Fatalf("All = %v, %v", all, err)
	}
}
