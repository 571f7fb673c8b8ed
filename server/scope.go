package server

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"evidock"
)

// Where footage belongs. A unit path (see package evidock, "Units are
// paths") is the chain of unit codes from the bureau down to a unit,
// "CZ/CZ-TN/CZ-TN-1", built from the units table and nowhere else: UnitPaths
// computes it, for the API and the web UI alike, and RegistryScope uses it
// to say which unit a clip or a case belongs to.

// maxUnitDepth bounds the walk up the tree: bureau, district, unit. A
// longer chain is a damaged table (a cycle), not a deeper tree.
var maxUnitDepth = len(evidock.UnitLevels())

// maxCachedPaths bounds the cache of UnitPaths; a bureau has hundreds of
// units, so it is only ever reached by a flood of unknown codes, which are
// not cached anyway.
const maxCachedPaths = 10000

// UnitPaths turns unit codes into unit paths. It remembers the paths it has
// found: a unit's code and parent never change and units are never deleted
// (the databases refuse it, migration 008), so a path once found stays true
// on every server sharing the database. Unknown codes are not remembered, so
// a unit created by another server is found at once. Safe for concurrent
// use.
type UnitPaths struct {
	units evidock.UnitService

	mu    sync.Mutex
	paths map[string]string
}

// NewUnitPaths returns UnitPaths reading the tree from units.
func NewUnitPaths(units evidock.UnitService) *UnitPaths {
	return &UnitPaths{units: units, paths: map[string]string{}}
}

// Path returns the path of the unit with code, e.g. "CZ/CZ-TN/CZ-TN-1" for
// CZ-TN-1. It returns ENOTFOUND for an unknown unit (or one whose ancestor
// is unknown), EINTERNAL for a tree deeper than bureau/district/unit, and
// the store's error.
func (p *UnitPaths) Path(ctx context.Context, code string) (string, error) {
	p.mu.Lock()
	path, ok := p.paths[code]
	p.mu.Unlock()
	if ok {
		return path, nil
	}
	path, err := unitPath(code, func(c string) (*evidock.Unit, error) { return p.units.FindUnit(ctx, c) })
	if err != nil {
		return "", err
	}
	p.remember(code, path)
	return path, nil
}

// remember caches the path of code.
func (p *UnitPaths) remember(code, path string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.paths) >= maxCachedPaths {
		clear(p.paths)
	}
	p.paths[code] = path
}

// All returns the path of every unit, by code, reading the whole tree in
// one query. It returns EINTERNAL for a damaged tree and the store's error.
func (p *UnitPaths) All(ctx context.Context) (map[string]string, error) {
	units, err := p.units.FindUnits(ctx)
	if err != nil {
		return nil, err
	}
	byCode := make(map[string]*evidock.Unit, len(units))
	for _, u := range units {
		byCode[u.Code] = u
	}
	paths := make(map[string]string, len(units))
	for _, u := range units {
		path, err := unitPath(u.Code, func(c string) (*evidock.Unit, error) {
			if v, ok := byCode[c]; ok {
				return v, nil
			}
			return nil, evidock.Errorf(evidock.ENOTFOUND, "unit %s does not exist", c)
		})
		if err != nil {
			return nil, err
		}
		paths[u.Code] = path
		p.remember(u.Code, path)
	}
	return paths, nil
}

// unitPath is the one place a path is made: it walks from code up through
// the parents that find returns, and joins the codes from the top down. It
// returns find's error, and EINTERNAL if the chain is longer than the tree
// is deep.
func unitPath(code string, find func(code string) (*evidock.Unit, error)) (string, error) {
	var segs []string
	for c := code; c != ""; {
		if len(segs) == maxUnitDepth {
			return "", evidock.Errorf(evidock.EINTERNAL, "unit %s: the chain of its parents is longer than bureau/district/unit: the units table is damaged", code)
		}
		u, err := find(c)
		if err != nil {
			return "", err
		}
		segs = append(segs, u.Code)
		c = u.ParentCode
	}
	slices.Reverse(segs)
	return strings.Join(segs, "/"), nil
}

// LinkedCaseFinder finds the cases a clip is linked to; the SQLite and
// PostgreSQL stores are ones.
type LinkedCaseFinder interface {
	// LinkedCases returns the numbers of the cases clip d is linked to
	// now (a confirmed link to one of their activities), never nil.
	LinkedCases(ctx context.Context, d evidock.Digest) ([]string, error)
}

// RegistryScope says where clips and cases belong by the bureau's
// registry: a clip belongs to the unit its officer was in when it was
// registered (stamped on the clip from the officers table, by the officer
// number the recorder carried; a later transfer of the officer moves none
// of it) and to the cases it is linked to; a case belongs to its unit. It
// is the scope the HTTP API and the web UI authorize by (an
// http.ClipScoper, CaseScoper and UnitScoper).
//
// The user accounts play no part: a user's officer role says what the user
// may see, not where an officer's footage belongs, and an administrator
// giving roles must not be able to move footage between units by it.
type RegistryScope struct {
	cases evidock.CaseService
	links LinkedCaseFinder
	paths *UnitPaths
}

// NewRegistryScope returns the scope answering from the registry's units,
// cases and links and the unit stamped on each clip at its registration
// (its officer's unit then, not today's: a transfer does not move
// footage).
func NewRegistryScope(units evidock.UnitService, cases evidock.CaseService, links LinkedCaseFinder) *RegistryScope {
	return &RegistryScope{cases: cases, links: links, paths: NewUnitPaths(units)}
}

// Paths returns the scope's UnitPaths.
func (s *RegistryScope) Paths() *UnitPaths { return s.paths }

// ClipScope returns the units of c (the path of c.UnitCode, the unit its
// officer was in when c was registered; none for a clip whose officer was
// not in the officers table, which only a grant opens) and the numbers of
// the cases c is linked to now. It returns the store's error.
func (s *RegistryScope) ClipScope(ctx context.Context, c *evidock.Clip) (units, cases []string, err error) {
	if c.UnitCode != "" {
		path, err := s.paths.Path(ctx, c.UnitCode)
		if err != nil {
			return nil, nil, err
		}
		units = []string{path}
	}
	if cases, err = s.links.LinkedCases(ctx, c.Digest); err != nil {
		return nil, nil, err
	}
	return units, cases, nil
}

// CaseUnits returns the unit of the case with the number, as a one-path
// list. It returns ENOTFOUND for an unknown case and the store's error.
func (s *RegistryScope) CaseUnits(ctx context.Context, number string) ([]string, error) {
	c, err := s.cases.FindCase(ctx, number)
	if err != nil {
		return nil, err
	}
	path, err := s.paths.Path(ctx, c.UnitCode)
	if err != nil {
		return nil, err
	}
	return []string{path}, nil
}

// UnitsReaching returns the codes of the units, in code order, that some
// role of u reaches for action at now: those whose path evidock.Authorize
// allows u the action on by role. It never returns nil, and returns the
// store's error.
func (s *RegistryScope) UnitsReaching(ctx context.Context, u *evidock.User, action evidock.Action, now time.Time) ([]string, error) {
	paths, err := s.paths.All(ctx)
	if err != nil {
		return nil, err
	}
	codes := []string{}
	for code, path := range paths {
		if evidock.Authorize(u, action, evidock.Resource{Units: []string{path}}, nil, now).Allowed {
			codes = append(codes, code)
		}
	}
	slices.Sort(codes)
	return codes, nil
}
