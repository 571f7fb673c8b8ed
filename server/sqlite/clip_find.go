package sqlite

import (
	"encoding/json"
	"strings"

	"evidock"
)

// accessCond returns the condition on clips that a keeps, and its
// arguments: clips of a.Units (the unit stamped on each at registration,
// not its officer's unit of today), clips named in a.Clips, and
// clips linked to a case in a.Cases; "0 = 1" if a is empty. Each list is
// one JSON array parameter, so that no list, however long, meets SQLite's
// bound on parameters.
func accessCond(a *evidock.ClipAccess) (string, []any) {
	var (
		terms []string
		args  []any
	)
	if len(a.Units) > 0 {
		terms = append(terms, "unit_code IN (SELECT value FROM json_each(?))")
		args = append(args, jsonArray(a.Units))
	}
	if len(a.Clips) > 0 {
		ds := make([]string, len(a.Clips))
		for i, d := range a.Clips {
			ds[i] = d.String()
		}
		terms = append(terms, "blake3 IN (SELECT value FROM json_each(?))")
		args = append(args, jsonArray(ds))
	}
	if len(a.Cases) > 0 {
		terms = append(terms, "id IN ("+confirmedClips+")")
		args = append(args, jsonArray(a.Cases))
	}
	if len(terms) == 0 {
		return "0 = 1", nil
	}
	return "(" + strings.Join(terms, " OR ") + ")", args
}

// jsonArray returns ss as a JSON array of strings.
func jsonArray(ss []string) string {
	b, _ := json.Marshal(ss) // strings always marshal
	return string(b)
}
