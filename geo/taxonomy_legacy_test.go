package geo

import "testing"

func TestMapLegacyEventType(t *testing.T) {
	tests := []struct {
		in       string
		inter    []int
		typ, sub string
		ok       bool
	}{
		{"Battle-No change of territory", nil, "Battles", "Armed clash", true},
		{"BATTLE - NO CHANGE OF TERRITORY", nil, "Battles", "Armed clash", true},
		{"Battle-Government regains territory", nil, "Battles", "Government regains territory", true},
		{"Battle-Non-state actor overtakes territory", nil, "Battles", "Non-state actor overtakes territory", true},
		{"Remote violence", nil, "Explosions/Remote violence", "", true},
		{"remote  violence", nil, "Explosions/Remote violence", "", true},
		{"Violence against civilians", nil, "Violence against civilians", "", true},
		{"Strategic development", nil, "Strategic developments", "", true},
		{"Headquarters or base established", nil, "Strategic developments", "Headquarters or base established", true},
		{"Non-violent transfer of territory", nil, "Strategic developments", "Non-violent transfer of territory", true},
		{"Non-violent activity by a conflict actor", nil, "Strategic developments", "", true},
		{"Riots/Protests", []int{5}, "Riots", "", true},
		{"Riots/Protests", []int{1, 5}, "Riots", "", true},
		{"Riots/Protests", []int{6, 1}, "Protests", "", true},
		{"Riots/Protests", []int{5, 6}, "Riots", "", true},
		{"riots / protests", nil, "Protests", "", true}, // the documented default
		{"Battles", nil, "", "", false},
		{"Battle", nil, "", "", false},
		{"", nil, "", "", false},
	}
	for _, tt := range tests {
		typ, sub, ok := MapLegacyEventType(tt.in, tt.inter)
		if typ != tt.typ || sub != tt.sub || ok != tt.ok {
			t.Errorf("MapLegacyEventType(%q, %v) = %q, %q, %v; want %q, %q, %v", tt.in, tt.inter, typ, sub, ok, tt.typ, tt.sub, tt.ok)
		}
		if ok && !ValidSubEventType(typ, sub) {
			t.Errorf("%q maps to %q / %q, not in the current taxonomy", tt.in, typ, sub)
		}
	}
	for _, tt := range []struct {
		inter1, inter2, interaction string
		want                        []int
	}{
		{"6", "1", "16", []int{6, 1, 1, 6}},
		{"5.0", "nan", "50.0", []int{5, 5, 0}},
		{"", "", "7", []int{7}},
		{"x", "", "", nil},
	} {
		if got := interCodes(tt.inter1, tt.inter2, tt.interaction); !equalInts(got, tt.want) {
			t.Errorf("interCodes(%q, %q, %q) = %v, want %v", tt.inter1, tt.inter2, tt.interaction, got, tt.want)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
