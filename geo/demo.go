package geo

import "time"

// DemoIncident is one incident of the bundled demonstration data set. Its
// location comes from the gazetteer: Place names a GeoNames place (Near
// only tells same-named places apart), and Aliases are the spellings the
// news used, added to the gazetteer so a search for them finds the place.
type DemoIncident struct {
	Incident Incident // everything but the point
	Place    string
	Near     [2]float64 // lon, lat: disambiguation hint, not the location
	Aliases  []string
}

// globalResearch is the article the project started from.
var globalResearch = Source{
	Name: "Global Research: Stephen Lendman, “Nagorno-Karabakh Ceasefire 2.0?”",
	Date: "2020-10-19",
}

func demoTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err) // the data set is a constant; a typo is a programming error
	}
	return t
}

// DemoIncidents is a small curated data set from public reporting of the
// Nagorno-Karabakh war of autumn 2020, around the humanitarian truces of
// 10 and 18 October. Claims by one side that the other did not confirm are
// marked disputed. Every record is flagged Demo.
func DemoIncidents() []DemoIncident {
	return []DemoIncident{
		{
			Place: "Jebrail", Near: [2]float64{47.03, 39.40}, Aliases: []string{"Jabrayil", "Cebrayıl", "Jabrail"},
			Incident: Incident{
				ExternalID: "demo-2020-10-18-jabrayil", OccurredAt: demoTime("2020-10-18T05:00:00+04:00"), TimePrecision: TimeDay,
				EventType: "Explosions/Remote violence", SubEventType: "Shelling/artillery/missile attack",
				Actor1: "Military Forces of Azerbaijan (2003-)", Actor2: "Military Forces of Armenia (2018-)",
				Title:        "Mortar and artillery fire reported near Jabrayil",
				Notes:        "Armenia's Defence Ministry spokeswoman Shushan Stepanyan said Azerbaijani forces launched mortar and artillery fire in the vicinity of Jabrayil before dawn, shortly after the humanitarian truce took effect; no casualties among personnel. Baku had no immediate response.",
				LocationName: "Jabrayil", GeoPrecision: GeoNear, Status: StatusDisputed,
				Sources: []Source{{Name: "Armenian Ministry of Defence (spokeswoman Shushan Stepanyan)", Date: "2020-10-18"}, globalResearch},
			},
		},
		{
			Place: "Jebrail", Near: [2]float64{47.03, 39.40},
			Incident: Incident{
				ExternalID: "demo-2020-10-18-aras-villages", OccurredAt: demoTime("2020-10-18T05:00:00+04:00"), TimePrecision: TimeDay,
				EventType: "Explosions/Remote violence", SubEventType: "Shelling/artillery/missile attack",
				Actor1: "Military Forces of Azerbaijan (2003-)", Actor2: "Military Forces of Armenia (2018-)",
				Title:        "Fire reported on villages along the Aras River",
				Notes:        "The same Armenian statement reported fire on the villages on the Aras River south of Jabrayil. Location known only to the district.",
				LocationName: "Villages on the Aras River, Jabrayil district", GeoPrecision: GeoRegion, Status: StatusDisputed,
				Sources: []Source{{Name: "Armenian Ministry of Defence (spokeswoman Shushan Stepanyan)", Date: "2020-10-18"}, globalResearch},
			},
		},
		{
			Place: "Xankandi", Near: [2]float64{46.75, 39.82}, Aliases: []string{"Stepanakert", "Khankendi"},
			Incident: Incident{
				ExternalID: "demo-2020-10-18-truce", OccurredAt: demoTime("2020-10-18T00:00:00Z"), TimePrecision: TimeDay,
				EventType: "Strategic developments", SubEventType: "Agreement",
				Actor1: "Government of Azerbaijan (2003-)", Actor2: "Government of Armenia (2018-)",
				Title:        "Humanitarian truce takes effect",
				Notes:        "Azerbaijan and Armenia agreed to a humanitarian truce from 18 October 00:00 local time (UTC+4), following statements of the OSCE Minsk Group co-chairs (France, Russia, the United States). Both sides accused the other of breaking it within hours.",
				LocationName: "Nagorno-Karabakh", GeoPrecision: GeoRegion, Status: StatusVerified,
				Sources: []Source{{Name: "Ministry of Foreign Affairs of Azerbaijan", Date: "2020-10-17"}, globalResearch},
			},
		},
		{
			Place: "Xankandi", Near: [2]float64{46.75, 39.82},
			Incident: Incident{
				ExternalID: "demo-2020-10-18-calm-line-of-contact", OccurredAt: demoTime("2020-10-18T08:00:00+04:00"), TimePrecision: TimeDay,
				EventType: "Strategic developments", SubEventType: "Other",
				Title:        "Calm reported along the line of contact",
				Notes:        "Later on Sunday the Armenian Defence Ministry spokeswoman and the presidential spokesman of Nagorno-Karabakh reported calm along the line of contact.",
				LocationName: "Line of contact, Nagorno-Karabakh", GeoPrecision: GeoRegion, Status: StatusVerified,
				Sources: []Source{globalResearch},
			},
		},
		{
			Place: "Moscow", Near: [2]float64{37.62, 55.75},
			Incident: Incident{
				ExternalID: "demo-2020-10-10-moscow-statement", OccurredAt: demoTime("2020-10-10T12:00:00+03:00"), TimePrecision: TimeDay,
				EventType: "Strategic developments", SubEventType: "Agreement",
				Actor1: "Government of Azerbaijan (2003-)", Actor2: "Government of Armenia (2018-)",
				Title:        "Moscow statement: humanitarian ceasefire agreed",
				Notes:        "After talks hosted by Russian Foreign Minister Sergey Lavrov, Armenia and Azerbaijan agreed a humanitarian ceasefire for the exchange of prisoners and bodies. It failed to take hold.",
				LocationName: "Moscow", GeoPrecision: GeoExact, Status: StatusVerified,
				Sources: []Source{{Name: "Ministry of Foreign Affairs of Russia", Date: "2020-10-10"}, globalResearch},
			},
		},
		{
			Place: "Khomārlū", Near: [2]float64{47.04, 39.15}, Aliases: []string{"Khomarlu", "Khoda Afarin"},
			Incident: Incident{
				ExternalID: "demo-2020-10-iran-border-villages", OccurredAt: demoTime("2020-10-12T00:00:00Z"), TimePrecision: TimeWeek,
				EventType: "Explosions/Remote violence", SubEventType: "Shelling/artillery/missile attack",
				Actor1:       "Unidentified Military Forces",
				Title:        "Rockets and shells land in Iranian border villages",
				Notes:        "Iranian officials reported rockets and shells from the fighting across the Aras landing in Iranian border villages of Khoda Afarin county in the week before the 18 October truce. Exact dates and places vary between reports.",
				LocationName: "Iranian villages on the Aras River, Khoda Afarin county", GeoPrecision: GeoRegion, Status: StatusVerified,
				Sources: []Source{{Name: "Iranian state media", Date: "2020-10"}},
			},
		},
	}
}
