package http

import (
	"bytes"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"evidock"
)

// TestCaseBodyFieldsMatchDomain holds the wire forms of a case and an
// activity to the domain's fields, less those the server sets: a field
// added to one and not the other would be refused, or silently dropped.
func TestCaseBodyFieldsMatchDomain(t *testing.T) {
	without := func(fields []string, drop ...string) []string {
		return slices.DeleteFunc(fields, func(f string) bool { return slices.Contains(drop, f) })
	}
	caseFields := without(jsonFields(evidock.Case{}), "id", "stage", "created_at", "")
	caseFields = append(caseFields, jsonFields(evidock.CaseDates{})...)
	slices.Sort(caseFields)
	bodyFields := without(jsonFields(caseBody{}), "")
	bodyFields = append(bodyFields, jsonFields(datesBody{})...)
	slices.Sort(bodyFields)
	if !reflect.DeepEqual(bodyFields, caseFields) {
		t.Errorf("caseBody has JSON fields %v; evidock.Case has %v", bodyFields, caseFields)
	}
	if got, want := jsonFields(activityBody{}), without(jsonFields(evidock.Activity{}),
		"id", "case_id", "recording_mandatory", "recording_rules", "created_at"); !reflect.DeepEqual(got, want) {
		t.Errorf("activityBody has JSON fields %v; evidock.Activity has %v", got, want)
	}
	if got, want := jsonFields(datesBody{}), jsonFields(evidock.CaseDates{}); !reflect.DeepEqual(got, want) {
		t.Errorf("datesBody has JSON fields %v; evidock.CaseDates has %v", got, want)
	}
	if got, want := jsonFields(officerBody{}), without(jsonFields(evidock.Officer{}), "created_at"); !reflect.DeepEqual(got, want) {
		t.Errorf("officerBody has JSON fields %v; evidock.Officer has %v", got, want)
	}
	if got, want := jsonFields(unitBody{}), without(jsonFields(evidock.Unit{}), "created_at"); !reflect.DeepEqual(got, want) {
		t.Errorf("unitBody has JSON fields %v; evidock.Unit has %v", got, want)
	}
}

func TestCaseUnknownFieldMessage(t *testing.T) {
	for _, tt := range []struct {
		decode func() error
		want   []string
	}{
		{func() error { _, err := decodeCase(strings.NewReader(`{"numbr":"1"}`)); return err },
			[]string{"numbr", "number", "parties", "filed_at", "archived_at"}},
		{func() error { _, err := decodeActivity(strings.NewReader(`{"officer":["100001"]}`)); return err },
			[]string{`"officer"`, "officers", "service_method", "recording_ordered"}},
		{func() error { _, err := decodeLinkChange(strings.NewReader(`{"clip":"x"}`)); return err },
			[]string{`"clip"`, "blake3, action, reason"}},
		// by is the server's to set, from the session: named, it is refused.
		{func() error {
			_, err := decodeLinkChange(strings.NewReader(`{"blake3":"` + strings.Repeat("ab", 32) + `","action":"confirm","by":"100001"}`))
			return err
		}, []string{"field by is not accepted", "the server records who made the change"}},
	} {
		err := tt.decode()
		if evidock.ErrorCode(err) != evidock.EINVALID {
			t.Fatalf("decode = %v; want EINVALID", err)
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("message %q lacks %s", err, w)
			}
		}
	}
}

func seedCase() *evidock.Case {
	filed := time.Date(2024, 5, 1, 9, 0, 0, 0, evidock.ChinaTime)
	return &evidock.Case{Number: "常人社监罚〔2024〕12号", Kind: evidock.CasePenalty, Title: "拖欠工资", UnitCode: "CZ-TN-1",
		Parties:   []evidock.Party{{Role: evidock.PartyEmployer, Name: "某公司"}, {Role: evidock.PartyWorker, Name: "陈某"}},
		CaseDates: evidock.CaseDates{FiledAt: filed, DecidedAt: filed.Add(72 * time.Hour)}}
}

func TestDecodeCaseRoundTrip(t *testing.T) {
	want := seedCase()
	b, err := encodeCase(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeCase(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if err := got.Validate(); err != nil {
		t.Fatal(err)
	}
	if got.Number != want.Number || !reflect.DeepEqual(got.Parties, want.Parties) || !got.FiledAt.Equal(want.FiledAt) ||
		!got.DecidedAt.Equal(want.DecidedAt) || !got.ServedAt.IsZero() || got.Stage != evidock.StageDecided {
		t.Fatalf("decodeCase(encodeCase(c)) = %+v; want %+v", got, want)
	}
}

// FuzzDecodeCase feeds the case decoder arbitrary bodies: it must never
// panic, must refuse with EINVALID only, and what it accepts must survive
// encoding and decoding again unchanged.
func FuzzDecodeCase(f *testing.F) {
	good, _ := encodeCase(seedCase())
	f.Add(good)
	for _, s := range []string{
		`{}`, `null`, `[]`, `"case"`,
		`{"number":"A-1","parties":[]}`,
		`{"parties":[{"role":"employer","name":"x"},{"role":1}]}`,
		`{"parties":null,"filed_at":"2024-05-01"}`,
		`{"filed_at":"2024-02-30"}`,
		`{"decided_at":"2024-05-01T09:00:00.123456789-23:59"}`,
		`{"stage":"closed","id":1}`,
		`{"number":"\u0000\ud800"} {}`,
		`{"parties":[{"role":"employer","name":"x","extra":1}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := decodeCase(bytes.NewReader(body))
		if err != nil {
			if evidock.ErrorCode(err) != evidock.EINVALID || c != nil {
				t.Fatalf("decodeCase(%q) = %v, %v; want nil, EINVALID", body, c, err)
			}
			return
		}
		b, err := encodeCase(c)
		if err != nil {
			t.Fatalf("encode accepted case: %v", err)
		}
		again, err := decodeCase(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("decodeCase rejects its own output %s: %v", b, err)
		}
		if b2, _ := encodeCase(again); !bytes.Equal(b, b2) {
			t.Fatalf("round trip changed the case:\n%s\n%s", b, b2)
		}
		c.Validate() // must not panic, whatever it says
	})
}

func seedActivity() *evidock.Activity {
	start := time.Date(2024, 5, 2, 9, 0, 0, 0, evidock.ChinaTime)
	return &evidock.Activity{Type: evidock.ActivityService, ServiceMethod: evidock.ServiceByLeaving, Uncooperative: true,
		Officers: []string{"100001", "100002"}, StartedAt: start, EndedAt: start.Add(time.Hour), Place: "公司前台", Note: "拒收\n见证人在场"}
}

func TestDecodeActivityRoundTrip(t *testing.T) {
	want := seedActivity()
	b, err := encodeActivity(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeActivity(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	got.CaseID = 1
	if err := got.Validate(); err != nil {
		t.Fatal(err)
	}
	got.CaseID = 0
	if !got.StartedAt.Equal(want.StartedAt) || !got.EndedAt.Equal(want.EndedAt) {
		t.Fatalf("times changed: %v %v", got.StartedAt, got.EndedAt)
	}
	got.StartedAt, got.EndedAt = want.StartedAt, want.EndedAt
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decodeActivity(encodeActivity(a)) =\n%+v\nwant\n%+v", got, want)
	}
	if !evidock.RecordingMandatory(got) {
		t.Fatal("service by leaving with an uncooperative party is not mandatory")
	}
}

// FuzzDecodeActivity feeds the activity decoder arbitrary bodies: it must
// never panic, must refuse with EINVALID only, and what it accepts must
// survive encoding and decoding again unchanged; Validate and the rule
// table must not panic on it.
func FuzzDecodeActivity(f *testing.F) {
	good, _ := encodeActivity(seedActivity())
	f.Add(good)
	for _, s := range []string{
		`{}`, `null`, `[]`, `0`,
		`{"type":"sampling","officers":["100001"],"started_at":"2024-05-02T09:00:00+08:00","ended_at":"2024-05-02T08:00:00+08:00"}`,
		`{"type":"service","service_method":"announcement","emergency":true,"recording_ordered":true}`,
		`{"officers":null}`,
		`{"officers":[1,2]}`,
		`{"officers":"100001"}`,
		`{"emergency":"yes"}`,
		`{"started_at":"2024-05-02T09:00:00Z","ended_at":"9999-12-31T23:59:59.999999999+14:00"}`,
		`{"recording_mandatory":true}`,
		`{"note":"\u0000\ud800\n"} {}`,
		`{"type":"interview","place":"` + strings.Repeat("地", 300) + `"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := decodeActivity(bytes.NewReader(body))
		if err != nil {
			if evidock.ErrorCode(err) != evidock.EINVALID || a != nil {
				t.Fatalf("decodeActivity(%q) = %v, %v; want nil, EINVALID", body, a, err)
			}
			return
		}
		b, err := encodeActivity(a)
		if err != nil {
			t.Fatalf("encode accepted activity: %v", err)
		}
		again, err := decodeActivity(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("decodeActivity rejects its own output %s: %v", b, err)
		}
		if b2, _ := encodeActivity(again); !bytes.Equal(b, b2) {
			t.Fatalf("round trip changed the activity:\n%s\n%s", b, b2)
		}
		a.CaseID = 1
		if a.Validate() == nil && a.Type == "" {
			t.Fatalf("an activity without a type validated: %s", body)
		}
		a.Derive()
		if a.RecordingMandatory != (len(a.RecordingRules) > 0) {
			t.Fatalf("mandatory %v with rules %v", a.RecordingMandatory, a.RecordingRules)
		}
	})
}

// FuzzDecodeLinkChange feeds the link change decoder arbitrary bodies: it
// must never panic and must refuse with EINVALID only.
func FuzzDecodeLinkChange(f *testing.F) {
	f.Add([]byte(`{"blake3":"` + strings.Repeat("ab", 32) + `","action":"confirm","by":"100001"}`))
	f.Add([]byte(`{"blake3":"AB","action":"reject","by":"system","reason":""}`))
	f.Add([]byte(`{"activity_id":1}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := decodeLinkChange(bytes.NewReader(body))
		if err != nil {
			if evidock.ErrorCode(err) != evidock.EINVALID || e != nil {
				t.Fatalf("decodeLinkChange(%q) = %v, %v; want nil, EINVALID", body, e, err)
			}
			return
		}
		e.ActivityID = 1
		if err := e.Validate(); err != nil && evidock.ErrorCode(err) != evidock.EINVALID {
			t.Fatalf("Validate = %v; want nil or EINVALID", err)
		}
	})
}
