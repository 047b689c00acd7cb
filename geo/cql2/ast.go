package cql2

import "time"

// Expr is a node of a parsed filter: a predicate, a logical operator or an
// operand. Parsing CQL2 text and CQL2 JSON yields the same trees.
type Expr interface {
	isExpr()
}

// Logical is AND or OR over two or more operands.
type Logical struct {
	Op   string // "and" or "or"
	Args []Expr
}

// Not negates its operand.
type Not struct {
	Arg Expr
}

// Comparison is a binary comparison: Op is one of = <> < <= > >=.
type Comparison struct {
	Op          string
	Left, Right Expr
}

// Like matches a string property against a pattern with % and _ wildcards
// and \ as the escape character; it is case-sensitive.
type Like struct {
	Left, Pattern Expr
}

// Between is Left BETWEEN Low AND High (both ends included).
type Between struct {
	Left, Low, High Expr
}

// In is Left IN (List...).
type In struct {
	Left Expr
	List []Expr
}

// IsNull is Arg IS NULL.
type IsNull struct {
	Arg Expr
}

// Spatial is a spatial function such as s_intersects; Distance (metres) is
// set only for s_dwithin.
type Spatial struct {
	Op          string // lower case, e.g. "s_intersects"
	Left, Right Expr
	Distance    float64
}

// Temporal is a temporal function such as t_intersects.
type Temporal struct {
	Op          string // lower case, e.g. "t_during"
	Left, Right Expr
}

// Property names a queryable.
type Property struct {
	Name string
}

// StringLit is a character literal.
type StringLit struct {
	Value string
}

// NumberLit is a numeric literal.
type NumberLit struct {
	Value float64
}

// BoolLit is TRUE or FALSE.
type BoolLit struct {
	Value bool
}

// TimestampLit is TIMESTAMP('...'), in UTC.
type TimestampLit struct {
	Value time.Time
}

// DateLit is DATE('...'): midnight UTC of that day.
type DateLit struct {
	Value time.Time
}

// OpenEnd is the '..' end of an interval.
type OpenEnd struct{}

// IntervalLit is INTERVAL(start, end); each end is a TimestampLit, DateLit,
// Property or OpenEnd.
type IntervalLit struct {
	Start, End Expr
}

// GeometryLit is a geometry literal (WKT, GeoJSON or a bbox), kept as
// canonical WKT in longitude/latitude (CRS84).
type GeometryLit struct {
	WKT string
}

func (*Logical) isExpr()      {}
func (*Not) isExpr()          {}
func (*Comparison) isExpr()   {}
func (*Like) isExpr()         {}
func (*Between) isExpr()      {}
func (*In) isExpr()           {}
func (*IsNull) isExpr()       {}
func (*Spatial) isExpr()      {}
func (*Temporal) isExpr()     {}
func (*Property) isExpr()     {}
func (*StringLit) isExpr()    {}
func (*NumberLit) isExpr()    {}
func (*BoolLit) isExpr()      {}
func (*TimestampLit) isExpr() {}
func (*DateLit) isExpr()      {}
func (*OpenEnd) isExpr()      {}
func (*IntervalLit) isExpr()  {}
func (*GeometryLit) isExpr()  {}
