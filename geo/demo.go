package geo

import (
	"time"

	"github.com/paulmach/orb"
)

// DemoIncident is one incident of the bundled demonstration data set.
type DemoIncident struct {
	// Incident is the record; its Point is taken from the gazetteer when
	// GeoNamesID is set.
	Incident Incident
	// GeoNamesID is the gazetteer place the incident sits on (GeoNames ids
	// are stable, so no spelling or alias is needed to find it); 0 when the
	// source names no place GeoNames holds (a stretch of river), and
	// Incident.Point is then set here.
	GeoNamesID int64
	// Evidence holds the sentences of the source, as written there (less
	// the Markdown emphasis of the seed copy), that each statement of the
	// incident rests on.
	Evidence []string
}

// GeoNames ids of the places the demo incidents sit on.
const (
	DemoPlaceJebrail  = 148141 // Jebrail (Jabrayil), Azerbaijan
	DemoPlaceXankandi = 146970 // Xankandi (Stepanakert), Nagorno-Karabakh
	DemoPlaceMoscow   = 524901 // Moscow
	DemoPlaceKhomarlu = 127409 // Khomārlū, Iran, on the Aras opposite Jabrayil district
)

// DemoArasVillages is where the demo puts "the liberated villages on the
// Aras River": on the Azerbaijani bank of the Aras due south of Jabrayil
// town, under a kilometre from the Azerbaijan–Iran border, as the source
// names the river but no village.
func DemoArasVillages() orb.Point { return orb.Point{47.0, 39.19} }

// DemoSource is the article the project started from, the only source of
// the demo data: Stephen Lendman's article in Global Research, an online
// publication (media), of 19 October 2020. Its original is on
// globalresearch.ca; the seed copy has no link, so none is given, nor an
// access time or archived copy.
func DemoSource() Source {
	return Source{
		Publisher:   "Global Research",
		Title:       "Nagorno-Karabakh Ceasefire 2.0?",
		PublishedAt: "2020-10-19",
		Kind:        SourceMedia,
	}
}

// DemoTruceBreachClaims are the two sides of the truce breach of 18
// October as the article tells them: Armenia's Defence Ministry blames
// Azerbaijani forces; Baku had not answered. Neither says when the claim
// was made beyond "early on Sunday", so ClaimedAt stays empty. A charge
// the accused left unanswered on record is contested by ContestedOf: the
// map must not show one side's account as settled.
func DemoTruceBreachClaims() []Claim {
	src := ClaimSource{Name: DemoSource().Publisher}
	return []Claim{
		{
			Party: "Ministry of Defence of Armenia", Stance: StanceAttributesTo, AttributedTo: "Military Forces of Azerbaijan",
			Text: "Spokeswoman Shusan Stepanyan: pre-dawn on Sunday, Azeri forces \"launched mortar and artillery fire in the " +
				"vicinity of Jabrayil, as well as the liberated villages on the Aras River.\"",
			Source: src,
		},
		{
			Party: "Baku (Government of Azerbaijan)", Stance: StanceNoComment,
			Text:   "Baku had no immediate response to the charge.",
			Source: src,
		},
	}
}

func demoTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err) // the data set is a constant; a typo is a programming error
	}
	return t
}

// DemoIncidents is a small data set told from one article (DemoSource) on
// the Nagorno-Karabakh war of autumn 2020, around the humanitarian truce
// of 18 October. Each statement rests on a sentence of the article (its
// Evidence); nothing is added that the article does not say, except where
// a map needs a point the article does not give, and the location name
// then says so. A claim by one side that the other did not confirm is
// marked disputed; what the article itself only says happened
// "reportedly" is reported (published, not verified). Azerbaijan's local
// time in October 2020 was UTC+4.
// Every record is flagged Demo.
func DemoIncidents() []DemoIncident {
	article := []Source{DemoSource()}
	return []DemoIncident{
		{
			GeoNamesID: DemoPlaceXankandi,
			Incident: Incident{
				ExternalID: "demo-2020-10-18-truce", OccurredAt: demoTime("2020-10-18T00:00:00+04:00"), TimePrecision: TimeDay,
				EventType: "Strategic developments", SubEventType: "Agreement",
				Actor1: "Government of Azerbaijan", Actor2: "Government of Armenia",
				Title: "Humanitarian truce takes effect",
				Notes: "Azerbaijan's Foreign Ministry: the Republic of Azerbaijan and the Republic of Armenia agreed to a " +
					"humanitarian truce as of 18 October, 00:00 local time (Azerbaijan's UTC+4: 20:00 UTC on 17 October). " +
					"Straight after it took effect, Armenia accused Azerbaijan of breaching it.",
				LocationName: "Nagorno-Karabakh (region; the truce has no single place)", GeoPrecision: GeoRegion,
				Status: StatusVerified, Sources: article,
			},
			Evidence: []string{
				"“The Republic of Azerbaijan and the Republic of Armenia have agreed to a humanitarian truce as of October 18th, 00h00 local time,”",
				"An Azeri Foreign Ministry statement said the following:",
				"Straightaway after it became effective, Armenia accused Azerbaijan of breaching it.",
			},
		},
		{
			GeoNamesID: DemoPlaceJebrail,
			Incident: Incident{
				// Pre-dawn on Sunday 18 October; the hour is not given.
				ExternalID: "demo-2020-10-18-jabrayil", OccurredAt: demoTime("2020-10-18T04:00:00+04:00"), TimePrecision: TimeDay,
				EventType: "Explosions/Remote violence", SubEventType: "Shelling/artillery/missile attack",
				Actor1: "Military Forces of Azerbaijan", Actor2: "Military Forces of Armenia",
				Title: "Armenia says Azerbaijani forces fired mortars and artillery near Jabrayil",
				Notes: "Armenia's Defence Ministry spokeswoman Shusan Stepanyan said that before dawn on Sunday Azerbaijani forces " +
					"\"launched mortar and artillery fire in the vicinity of Jabrayil\"; no casualties among the personnel; " +
					"Armenian units \"have taken adequate response measures\". Baku had no immediate response.",
				LocationName: "Jabrayil", GeoPrecision: GeoNear, // "in the vicinity of Jabrayil"
				Status: StatusDisputed, Sources: article,
				Claims: DemoTruceBreachClaims(),
			},
			Evidence: []string{
				"Armenia’s Defense Ministry spokeswoman Shusan Stepanyan said Azeri shelling and rocket fire continued early on Sunday, adding:",
				"Pre-dawn, Azeri forces “launched mortar and artillery fire in the vicinity of Jabrayil, as well as the liberated villages on the Aras River.”",
				"“There are no casualties among the personnel. Our units have taken adequate response measures.”",
				"Baku had no immediate response to the charge.",
			},
		},
		{
			Incident: Incident{
				ExternalID: "demo-2020-10-18-aras-villages", OccurredAt: demoTime("2020-10-18T04:00:00+04:00"), TimePrecision: TimeDay,
				EventType: "Explosions/Remote violence", SubEventType: "Shelling/artillery/missile attack",
				Actor1: "Military Forces of Azerbaijan", Actor2: "Military Forces of Armenia",
				Title: "Armenia says Azerbaijani forces fired on the villages on the Aras River",
				Notes: "In the same statement, before dawn on Sunday, Azerbaijani forces fired mortars and artillery on " +
					"\"the liberated villages on the Aras River\" as well as near Jabrayil; no casualties among the personnel. " +
					"Baku had no immediate response. The villages are not named: the point stands for the stretch of " +
					"the river south of Jabrayil, on the Azerbaijani bank.",
				LocationName: "Villages on the Aras River south of Jabrayil (a stretch of the river, not Jabrayil town)",
				Point:        DemoArasVillages(), GeoPrecision: GeoRegion,
				Status: StatusDisputed, Sources: article,
				Claims: DemoTruceBreachClaims(),
			},
			Evidence: []string{
				"Pre-dawn, Azeri forces “launched mortar and artillery fire in the vicinity of Jabrayil, as well as the liberated villages on the Aras River.”",
				"“There are no casualties among the personnel. Our units have taken adequate response measures.”",
				"Baku had no immediate response to the charge.",
			},
		},
		{
			GeoNamesID: DemoPlaceXankandi,
			Incident: Incident{
				// Early on Sunday 18 October; the hour is not given.
				ExternalID: "demo-2020-10-18-calm-line-of-contact", OccurredAt: demoTime("2020-10-18T08:00:00+04:00"), TimePrecision: TimeDay,
				EventType: "Strategic developments", SubEventType: "Other",
				Title: "Calm reported along the line of contact",
				Notes: "Early on Sunday, Armenia's Defence Ministry spokeswoman Shusan Stepanyan reported calm along " +
					"\"the line of contact\"; Nagorno-Karabakh's presidential spokesman Vagram Pogosyan issued a similar statement.",
				LocationName: "Line of contact, Nagorno-Karabakh (region)", GeoPrecision: GeoRegion,
				Status: StatusDisputed, Sources: article,
			},
			Evidence: []string{
				"Separately, Stepanyan reported calm along “the line of contact” early Sunday.",
				"NK’s presidential spokesman Vagram Pogosyan issued a similar statement.",
			},
		},
		{
			GeoNamesID: DemoPlaceMoscow,
			Incident: Incident{
				ExternalID: "demo-2020-10-10-moscow-statement", OccurredAt: demoTime("2020-10-10T12:00:00+03:00"), TimePrecision: TimeDay,
				EventType: "Strategic developments", SubEventType: "Agreement",
				Actor1: "Government of Azerbaijan", Actor2: "Government of Armenia",
				Title: "Russia-brokered ceasefire between Armenia and Azerbaijan (Moscow statement)",
				Notes: "A Russia-brokered ceasefire between Armenia and Azerbaijan in Nagorno-Karabakh, of 9 October, " +
					"failed to take hold; Azerbaijan's statement on the 18 October truce refers to the Moscow statement of 10 October 2020.",
				LocationName: "Moscow", GeoPrecision: GeoExact,
				Status: StatusVerified, Sources: article,
			},
			Evidence: []string{
				"An October 9 Russia-brokered ceasefire between Armenia and Azerbaijan in Nagorno-Karabakh (NK below) failed to take hold.",
				"and in line with Moscow statement of 10 October 2020.”",
			},
		},
		{
			GeoNamesID: DemoPlaceKhomarlu,
			Incident: Incident{
				// "Last week" in an article of Monday 19 October: 12 to 18 October.
				ExternalID: "demo-2020-10-iran-border-villages", OccurredAt: demoTime("2020-10-12T12:00:00+03:30"), TimePrecision: TimeWeek,
				EventType: "Explosions/Remote violence", SubEventType: "Shelling/artillery/missile attack",
				Title: "Rockets struck two Iranian border villages",
				Notes: "Reportedly in the week before the article, missiles or rockets struck two Iranian villages, with damage " +
					"and at least one injury reported. On Thursday Iran's Foreign Ministry spokesman Saeed Khatibzadeh expressed " +
					"concern about rockets striking along its border areas. Who fired is not said. The villages are not named: " +
					"the point stands for Iran's side of the border opposite the fighting.",
				LocationName:      "Two Iranian border villages (not named)",
				GeoPrecision:      GeoRegion,
				StatedCountry:     "Iran",
				StatedCountryCode: "IR",
				Status:            StatusReported, Sources: article,
			},
			Evidence: []string{
				"Reportedly last week, missiles or rockets struck two Iranian villages, damage and at least one injury reported.",
				"On Thursday, Iran’s Foreign Ministry spokesman Saeed Khatibzadeh expressed concern about rockets striking along its border areas, adding:",
			},
		},
	}
}
