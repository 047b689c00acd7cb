// Package cql2 parses OGC CQL2 filters (OGC API – Features – Part 3:
// Filtering; OGC 21-065, Common Query Language) in the text and the JSON
// encoding into one tree, and compiles a tree into a parameterised SQL
// WHERE fragment for PostgreSQL/PostGIS against an allow-list of
// queryables. It uses only the standard library.
//
//	e, err := cql2.Parse(filter, filterLang)     // *cql2.Error → 400
//	where, args, err := cql2.Compile(e, queryables, len(otherArgs)+1)
//	rows, err := db.Query("SELECT ... WHERE ... AND "+where, append(otherArgs, args...)...)
//
// Format writes a tree back as canonical CQL2 text, the same for both
// encodings of a filter.
//
// Only the SQL of a Queryable is ever written into the fragment; every
// literal of the filter is passed as an argument ($n). String queryables
// must yield text (cast enums with ::text): literals are compared with
// them uncast.
//
// # Grammar (CQL2 text)
//
// Keywords and function names are case-insensitive; property names are
// case-sensitive, bare (letters, digits, _ : . @, not starting with a
// digit) or "double quoted" ("" for a quote inside). Strings are 'single
// quoted', with a doubled quote or \' for a quote inside; \\ is kept as
// two characters, which LIKE reads as one literal backslash.
//
//	filter        = orExpr ;
//	orExpr        = andExpr { "OR" andExpr } ;
//	andExpr       = notExpr { "AND" notExpr } ;
//	notExpr       = "NOT" notExpr | primary ;
//	primary       = "(" orExpr ")" | "TRUE" | "FALSE"
//	              | spatialFn | temporalFn | predicate ;
//	predicate     = property compOp scalar
//	              | property [ "NOT" ] "LIKE" string
//	              | property [ "NOT" ] "BETWEEN" scalar "AND" scalar
//	              | property [ "NOT" ] "IN" "(" scalar { "," scalar } ")"
//	              | property "IS" [ "NOT" ] "NULL" ;
//	compOp        = "=" | "<>" | "<" | "<=" | ">" | ">=" ;
//	scalar        = string | number | "TRUE" | "FALSE" | instant ;
//	instant       = "DATE" "(" string ")" | "TIMESTAMP" "(" string ")" ;
//	spatialFn     = sName "(" spatialArg "," spatialArg ")"
//	              | "S_DWITHIN" "(" spatialArg "," spatialArg "," number [ "," units ] ")" ;
//	sName         = "S_INTERSECTS" | "S_WITHIN" | "S_CONTAINS" | "S_DISJOINT"
//	              | "S_EQUALS" | "S_TOUCHES" | "S_OVERLAPS" | "S_CROSSES" ;
//	units         = "meters" | "metres" | "m" | 'meters' ;   (only metres)
//	spatialArg    = property | geometry ;          (one of each)
//	geometry      = wkt | "BBOX" "(" number "," number "," number "," number
//	                [ "," number "," number ] ")" ;
//	wkt           = ( "POINT" | "LINESTRING" | "POLYGON" | "MULTIPOINT"
//	              | "MULTILINESTRING" | "MULTIPOLYGON" | "GEOMETRYCOLLECTION" )
//	                [ "Z" ] body ;                  (Simple Features WKT)
//	temporalFn    = tName "(" temporalArg "," temporalArg ")" ;
//	tName         = "T_AFTER" | "T_BEFORE" | "T_CONTAINS" | "T_DISJOINT"
//	              | "T_DURING" | "T_EQUALS" | "T_FINISHEDBY" | "T_FINISHES"
//	              | "T_INTERSECTS" | "T_MEETS" | "T_METBY" | "T_OVERLAPPEDBY"
//	              | "T_OVERLAPS" | "T_STARTEDBY" | "T_STARTS" ;
//	temporalArg   = property | instant | interval ;
//	interval      = "INTERVAL" "(" end "," end ")" ;
//	end           = "'..'" | string | instant | property ;   (string: a date or timestamp)
//
// CQL2 JSON is read per the standard's JSON schema for the same subset:
// {"op": ..., "args": [...]} with the ops and, or, not, =, <>, <, <=, >, >=,
// like, between, in, isNull, s_* and t_* above; {"property": ...};
// strings, numbers, booleans; {"date": ...}, {"timestamp": ...},
// {"interval": [end, end]}; {"bbox": [...]} and GeoJSON geometry objects.
// Unknown members are errors, not ignored.
//
// # Limits
//
// A filter may be at most [MaxInputBytes] (8 KiB) long, nest at most
// [MaxDepth] (20) levels (AND/OR/NOT, parentheses, predicates, geometry
// collections), hold at most [MaxNodes] (200) nodes, IN lists of at most
// [MaxInItems] (100) items and geometry literals of at most
// [MaxCoordinates] (1,000) positions. Each violation is an *Error.
//
// # Semantics
//
//   - Comparisons, LIKE, BETWEEN and IN take a property on the left and
//     literals on the right; the literal must suit the queryable's Kind
//     (a number for Number and Integer, a string for String, TRUE/FALSE for
//     Boolean with = and <> only). Comparing two properties, arithmetic,
//     functions, arrays, CASEI and ACCENTI are not supported.
//   - LIKE is case-sensitive: % matches any run, _ one character, \
//     escapes. A pattern ending in a lone \ is an error.
//   - Geometry literals are longitude/latitude (CRS84, SRID 4326) and are
//     passed as canonical WKT to ST_GeomFromText($n, 4326) — the same text
//     for WKT and GeoJSON input. Z values are accepted and dropped; EMPTY
//     and M are not supported. A BBOX whose west edge is east of its east
//     edge crosses the antimeridian and becomes two boxes. S_* map to the
//     PostGIS functions of the same name; a literal first and a property
//     second is swapped (S_WITHIN becoming S_CONTAINS and back).
//   - S_DWITHIN(property, geometry, distance[, meters]) is an extension,
//     not part of CQL2 1.0: true where the geography (WGS 84 spheroid)
//     distance is at most distance metres. ST_DWithin on geography cannot
//     use a geometry index, so a longitude/latitude box holding every
//     point within reach is tested first with && (see dwithinBox); no box
//     is added when a pole or the antimeridian is within reach.
//   - Timestamps are RFC 3339; a space may replace the T and a missing
//     offset means UTC (GDAL sends them so). Dates are full-dates.
//     Against a Timestamp queryable a string holding a date or timestamp
//     is read as DATE/TIMESTAMP; against a Date queryable a TIMESTAMP is an
//     error.
//   - Instants and intervals: every temporal operand is a closed range
//     [start, end] (CQL2 follows ISO 8601: intervals include both ends).
//     A timestamp is a range of one instant; a DATE compared with a
//     Timestamp queryable is its whole UTC day [00:00:00, 23:59:59.999999]
//     (PostgreSQL keeps microseconds); '..' is -infinity at the start and
//     infinity at the end, so an open interval holds every non-null time.
//     So at = DATE('2020-10-18') holds for any time of that day,
//     at < DATE(d) means before the day and at <= DATE(d) up to its end.
//   - Temporal functions follow the Time Ontology relations that CQL2
//     cites, on ranges [s1,e1] (first operand) and [s2,e2]:
//     T_BEFORE e1 < s2; T_AFTER s1 > e2; T_MEETS e1 = s2; T_METBY s1 = e2;
//     T_OVERLAPS s1 < s2 < e1 < e2; T_OVERLAPPEDBY s2 < s1 < e2 < e1;
//     T_STARTS s1 = s2, e1 < e2; T_STARTEDBY s1 = s2, e1 > e2;
//     T_DURING s1 > s2, e1 < e2 (both ends excluded: a time equal to an
//     end of the interval is not during it); T_CONTAINS s1 < s2, e1 > e2;
//     T_FINISHES s1 > s2, e1 = e2; T_FINISHEDBY s1 < s2, e1 = e2;
//     T_EQUALS s1 = s2, e1 = e2; T_DISJOINT e1 < s2 or s1 > e2;
//     T_INTERSECTS s1 <= e2 and e1 >= s2. The standard makes the
//     interval-only functions a client error for instants; here an instant
//     is an interval of zero length, so T_DURING(at, INTERVAL(...)) works
//     on a timestamp property (strictly inside the interval). One operand
//     must name a property, and all properties of a function must be
//     timestamps, or all dates. Any NULL makes a predicate unknown, so the
//     row is not selected.
//
// # Conformance classes
//
// The package implements these classes of CQL2 1.0
// (http://www.opengis.net/spec/cql2/1.0/conf/...), with the limits and the
// noted deviations above: basic-cql2, advanced-comparison-operators,
// basic-spatial-functions, basic-spatial-functions-plus,
// spatial-functions, temporal-functions, cql2-text, cql2-json. Not
// implemented: case-insensitive-comparison, accent-insensitive-comparison,
// array-functions, property-property (except inside temporal functions),
// functions, arithmetic.
package cql2
