package cql2

import "strconv"

// Limits on one filter. They keep parsing and the SQL it compiles to small
// whatever a client sends.
const (
	// MaxInputBytes is the longest filter accepted, in either encoding.
	MaxInputBytes = 8 << 10
	// MaxDepth is how deep predicates, AND/OR/NOT, parentheses and nested
	// geometry collections may nest.
	MaxDepth = 20
	// MaxNodes is the most nodes (predicates, operators, properties and
	// literals) one filter may hold.
	MaxNodes = 200
	// MaxInItems is the longest IN list.
	MaxInItems = 100
	// MaxCoordinates is the most positions one geometry literal may hold.
	MaxCoordinates = 1000
)

// checkLimits walks a tree (parsed or built by hand) and fails when it
// nests deeper than MaxDepth or holds more than MaxNodes nodes. It never
// recurses deeper than MaxDepth+1, so a hostile tree cannot exhaust the
// stack.
func checkLimits(e Expr) error {
	nodes := 0
	var walk func(e Expr, depth int) error
	walk = func(e Expr, depth int) error {
		if depth > MaxDepth {
			return errorf("filter nests deeper than %d levels", MaxDepth)
		}
		nodes++
		if nodes > MaxNodes {
			return errorf("filter has more than %d nodes", MaxNodes)
		}
		var kids []Expr
		switch e := e.(type) {
		case nil:
			return errorf("filter holds an empty expression")
		case *Logical:
			kids = e.Args
		case *Not:
			kids = []Expr{e.Arg}
		case *Comparison:
			kids = []Expr{e.Left, e.Right}
		case *Like:
			kids = []Expr{e.Left, e.Pattern}
		case *Between:
			kids = []Expr{e.Left, e.Low, e.High}
		case *In:
			if len(e.List) > MaxInItems {
				return errorf("IN list has %d items; at most %d are allowed", len(e.List), MaxInItems)
			}
			kids = append([]Expr{e.Left}, e.List...)
		case *IsNull:
			kids = []Expr{e.Arg}
		case *Spatial:
			kids = []Expr{e.Left, e.Right}
		case *Temporal:
			kids = []Expr{e.Left, e.Right}
		case *IntervalLit:
			kids = []Expr{e.Start, e.End}
		}
		for _, k := range kids {
			if err := walk(k, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(e, 1)
}

// checkSize rejects an input longer than MaxInputBytes.
func checkSize(n int) error {
	if n > MaxInputBytes {
		return errorf("filter is %s bytes long; at most %d are allowed", strconv.Itoa(n), MaxInputBytes)
	}
	return nil
}
