package geo

import (
	"net/url"
	"testing"
)

func TestParseChangesQuery(t *testing.T) {
	for _, tc := range []struct {
		query   string
		want    ChangesQuery
		wantErr string // the parameter named in the error
	}{
		{"since=0", ChangesQuery{Since: 0, Limit: ChangesDefaultLimit}, ""},
		{"since=42&limit=5", ChangesQuery{Since: 42, Limit: 5}, ""},
		{"since=latest", ChangesQuery{Latest: true, Limit: ChangesDefaultLimit}, ""},
		{"since=1&limit=999999", ChangesQuery{Since: 1, Limit: ChangesMaxLimit}, ""},
		{"", ChangesQuery{}, "since"},
		{"since=", ChangesQuery{}, "since"},
		{"since=-1", ChangesQuery{}, "since"},
		{"since=%2B1", ChangesQuery{}, "since"},
		{"since=abc", ChangesQuery{}, "since"},
		{"since=1.5", ChangesQuery{}, "since"},
		{"since=99999999999999999999", ChangesQuery{}, "since"},
		{"since=1&since=2", ChangesQuery{}, "since"},
		{"since=1&limit=0", ChangesQuery{}, "limit"},
		{"since=1&cursor=x", ChangesQuery{}, "cursor"},
	} {
		v, err := url.ParseQuery(tc.query)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseChangesQuery(v)
		if tc.wantErr != "" {
			pe, ok := err.(*ParamError)
			if !ok || pe.Param != tc.wantErr {
				t.Errorf("%q: err %v, want a ParamError on %s", tc.query, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q = %+v, %v; want %+v", tc.query, got, err, tc.want)
		}
	}
}
