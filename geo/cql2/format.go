package cql2

import (
	"strconv"
	"strings"
)

// Format writes a filter as CQL2 text that ParseText reads back to the
// same tree: a canonical form (for a cache key, a link or a log) whatever
// the encoding it came in. Two kinds of value have no CQL2 text spelling
// and do not read back the same: a string with an odd run of backslashes
// before a quote or at its end, and a property used as an interval end
// whose name looks like a date, a timestamp or "..".
func Format(e Expr) string {
	var b strings.Builder
	format(&b, e)
	return b.String()
}

// format writes a condition; its operands go through formatOperand.
func format(b *strings.Builder, e Expr) {
	switch e := e.(type) {
	case *Logical:
		b.WriteByte('(')
		for i, a := range e.Args {
			if i > 0 {
				b.WriteString(" " + strings.ToUpper(e.Op) + " ")
			}
			format(b, a)
		}
		b.WriteByte(')')
	case *Not:
		b.WriteString("NOT ")
		format(b, e.Arg)
	case *Comparison:
		format(b, e.Left)
		b.WriteString(" " + e.Op + " ")
		format(b, e.Right)
	case *Like:
		format(b, e.Left)
		b.WriteString(" LIKE ")
		format(b, e.Pattern)
	case *Between:
		format(b, e.Left)
		b.WriteString(" BETWEEN ")
		format(b, e.Low)
		b.WriteString(" AND ")
		format(b, e.High)
	case *In:
		format(b, e.Left)
		b.WriteString(" IN (")
		for i, a := range e.List {
			if i > 0 {
				b.WriteString(", ")
			}
			format(b, a)
		}
		b.WriteByte(')')
	case *IsNull:
		format(b, e.Arg)
		b.WriteString(" IS NULL")
	case *Spatial:
		b.WriteString(strings.ToUpper(e.Op) + "(")
		format(b, e.Left)
		b.WriteString(", ")
		format(b, e.Right)
		if e.Op == "s_dwithin" {
			b.WriteString(", " + strconv.FormatFloat(e.Distance, 'g', -1, 64))
		}
		b.WriteByte(')')
	case *Temporal:
		b.WriteString(strings.ToUpper(e.Op) + "(")
		format(b, e.Left)
		b.WriteString(", ")
		format(b, e.Right)
		b.WriteByte(')')
	default:
		formatOperand(b, e)
	}
}

// formatOperand writes an operand: a property, a literal, an interval or a
// geometry.
func formatOperand(b *strings.Builder, e Expr) {
	switch e := e.(type) {
	case *Property:
		b.WriteString(`"` + strings.ReplaceAll(e.Name, `"`, `""`) + `"`)
	case *StringLit:
		b.WriteString("'" + strings.ReplaceAll(e.Value, "'", "''") + "'")
	case *NumberLit:
		b.WriteString(strconv.FormatFloat(e.Value, 'g', -1, 64))
	case *BoolLit:
		if e.Value {
			b.WriteString("TRUE")
		} else {
			b.WriteString("FALSE")
		}
	case *TimestampLit:
		b.WriteString("TIMESTAMP('" + formatTimestamp(e.Value) + "')")
	case *DateLit:
		b.WriteString("DATE('" + e.Value.Format(dateLayout) + "')")
	case *OpenEnd:
		b.WriteString("'..'")
	case *IntervalLit:
		b.WriteString("INTERVAL(")
		format(b, e.Start)
		b.WriteString(", ")
		format(b, e.End)
		b.WriteByte(')')
	case *GeometryLit:
		b.WriteString(e.WKT)
	}
}
