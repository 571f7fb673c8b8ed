package postgres

import (
	"fmt"
	"strings"

	"evidock"
)

// accessCond returns the condition on clips that a keeps: clips of a.Units
// (the unit stamped on each at registration, not its officer's unit of
// today), clips named in a.Clips, and clips linked to a case in a.Cases;
// "0 = 1" if a is empty. param adds an argument and returns its
// placeholder; each list is one array parameter. The linked clips are
// looked up once, as an array (ARRAY(SELECT ...)), so that the planner
// scans the clips' indexes for them (unit and time, id; id) rather than
// joining against every clip.
func accessCond(a *evidock.ClipAccess, param func(arg any) string) string {
	var terms []string
	if len(a.Units) > 0 {
		terms = append(terms, "unit_code = ANY("+param(a.Units)+")")
	}
	if len(a.Clips) > 0 {
		ds := make([][]byte, len(a.Clips))
		for i, d := range a.Clips {
			ds[i] = d[:]
		}
		terms = append(terms, "blake3 = ANY("+param(ds)+")")
	}
	if len(a.Cases) > 0 {
		terms = append(terms, "id = ANY(ARRAY("+fmt.Sprintf(confirmedClips, param(a.Cases))+"))")
	}
	if len(terms) == 0 {
		return "0 = 1"
	}
	return "(" + strings.Join(terms, " OR ") + ")"
}
