package cql2

import (
	"strconv"
	"strings"
)

// ParseText parses a filter in CQL2 text (filter-lang=cql2-text).
func ParseText(s string) (Expr, error) {
	if err := checkSize(len(s)); err != nil {
		return nil, err
	}
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := &textParser{toks: toks}
	e, err := p.booleanExpr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, p.errAt(t, "unexpected %s after the end of the expression", t.describe())
	}
	if err := checkLimits(e); err != nil {
		return nil, err
	}
	return e, nil
}

// textParser is a recursive-descent parser over the tokens of one filter.
type textParser struct {
	toks  []token
	i     int
	depth int // parentheses, NOT and geometry collections open now
}

func (p *textParser) peek() token { return p.toks[p.i] }

func (p *textParser) peekAt(n int) token {
	if p.i+n >= len(p.toks) {
		return p.toks[len(p.toks)-1]
	}
	return p.toks[p.i+n]
}

func (p *textParser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *textParser) errAt(t token, format string, args ...any) *Error {
	e := errorf(format, args...)
	e.Offset = t.pos
	return e
}

// enter counts one level of nesting; leave undoes it.
func (p *textParser) enter(t token) error {
	p.depth++
	if p.depth > MaxDepth {
		return p.errAt(t, "filter nests deeper than %d levels", MaxDepth)
	}
	return nil
}

func (p *textParser) leave() { p.depth-- }

// keyword consumes the next token if it is the keyword kw.
func (p *textParser) keyword(kw string) bool {
	if p.peek().upper() == kw {
		p.i++
		return true
	}
	return false
}

// expect consumes a token of kind k or fails naming what.
func (p *textParser) expect(k tokenKind, what string) (token, error) {
	t := p.next()
	if t.kind != k {
		return t, p.errAt(t, "expected %s, found %s", what, t.describe())
	}
	return t, nil
}

// booleanExpr = booleanTerm { OR booleanTerm }
func (p *textParser) booleanExpr() (Expr, error) {
	return p.logical("OR", p.booleanTerm)
}

// booleanTerm = booleanFactor { AND booleanFactor }
func (p *textParser) booleanTerm() (Expr, error) {
	return p.logical("AND", p.booleanFactor)
}

func (p *textParser) logical(kw string, operand func() (Expr, error)) (Expr, error) {
	first, err := operand()
	if err != nil {
		return nil, err
	}
	args := []Expr{first}
	for p.keyword(kw) {
		e, err := operand()
		if err != nil {
			return nil, err
		}
		args = append(args, e)
		if len(args) > MaxNodes {
			return nil, errorf("filter has more than %d nodes", MaxNodes)
		}
	}
	if len(args) == 1 {
		return first, nil
	}
	return &Logical{Op: strings.ToLower(kw), Args: args}, nil
}

// booleanFactor = [ NOT ] booleanPrimary
func (p *textParser) booleanFactor() (Expr, error) {
	if t := p.peek(); t.upper() == "NOT" {
		p.i++
		if err := p.enter(t); err != nil {
			return nil, err
		}
		defer p.leave()
		e, err := p.booleanFactor()
		if err != nil {
			return nil, err
		}
		return &Not{Arg: e}, nil
	}
	return p.booleanPrimary()
}

// booleanPrimary = "(" booleanExpr ")" | TRUE | FALSE | function | predicate
func (p *textParser) booleanPrimary() (Expr, error) {
	t := p.peek()
	if t.kind == tokLParen {
		p.i++
		if err := p.enter(t); err != nil {
			return nil, err
		}
		defer p.leave()
		e, err := p.booleanExpr()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tokRParen, "')'"); err != nil {
			return nil, err
		}
		return e, nil
	}
	if t.kind == tokIdent && p.peekAt(1).kind == tokLParen {
		name := t.upper()
		switch {
		case strings.HasPrefix(name, "S_"):
			return p.spatial()
		case strings.HasPrefix(name, "T_"):
			return p.temporal()
		}
	}
	if (t.upper() == "TRUE" || t.upper() == "FALSE") && p.peekAt(1).kind != tokOp {
		p.i++
		return &BoolLit{Value: t.upper() == "TRUE"}, nil
	}
	return p.predicate()
}

// predicate = operand ( compOp operand | [NOT] LIKE operand |
// [NOT] BETWEEN operand AND operand | [NOT] IN "(" operand {"," operand} ")" |
// IS [NOT] NULL )
func (p *textParser) predicate() (Expr, error) {
	left, err := p.operand()
	if err != nil {
		return nil, err
	}
	t := p.peek()
	if t.kind == tokOp {
		p.i++
		right, err := p.operand()
		if err != nil {
			return nil, err
		}
		return &Comparison{Op: t.text, Left: left, Right: right}, nil
	}
	if t.upper() == "IS" {
		p.i++
		not := p.keyword("NOT")
		if !p.keyword("NULL") {
			return nil, p.errAt(p.peek(), "expected NULL after IS, found %s", p.peek().describe())
		}
		var e Expr = &IsNull{Arg: left}
		if not {
			e = &Not{Arg: e}
		}
		return e, nil
	}
	not := p.keyword("NOT")
	var e Expr
	t = p.peek()
	switch t.upper() {
	case "LIKE":
		p.i++
		pat, err := p.operand()
		if err != nil {
			return nil, err
		}
		e = &Like{Left: left, Pattern: pat}
	case "BETWEEN":
		p.i++
		low, err := p.operand()
		if err != nil {
			return nil, err
		}
		if !p.keyword("AND") {
			return nil, p.errAt(p.peek(), "expected AND in BETWEEN, found %s", p.peek().describe())
		}
		high, err := p.operand()
		if err != nil {
			return nil, err
		}
		e = &Between{Left: left, Low: low, High: high}
	case "IN":
		p.i++
		list, err := p.list()
		if err != nil {
			return nil, err
		}
		e = &In{Left: left, List: list}
	case "ILIKE":
		return nil, p.errAt(t, "ILIKE is not CQL2; use LIKE (case-sensitive)")
	default:
		return nil, p.errAt(t, "expected a comparison operator (= <> < <= > >=), LIKE, BETWEEN, IN or IS NULL, found %s", t.describe())
	}
	if not {
		e = &Not{Arg: e}
	}
	return e, nil
}

// list = "(" operand { "," operand } ")"
func (p *textParser) list() ([]Expr, error) {
	if _, err := p.expect(tokLParen, "'(' to open the IN list"); err != nil {
		return nil, err
	}
	var list []Expr
	for {
		e, err := p.operand()
		if err != nil {
			return nil, err
		}
		list = append(list, e)
		if len(list) > MaxInItems {
			return nil, errorf("IN list has more than %d items", MaxInItems)
		}
		t := p.next()
		if t.kind == tokRParen {
			return list, nil
		}
		if t.kind != tokComma {
			return nil, p.errAt(t, "expected ',' or ')' in the IN list, found %s", t.describe())
		}
	}
}

// operand = property | characterLiteral | numericLiteral | booleanLiteral |
// DATE(...) | TIMESTAMP(...) | INTERVAL(...) | geometry | BBOX(...)
func (p *textParser) operand() (Expr, error) {
	t := p.next()
	switch t.kind {
	case tokString:
		return &StringLit{Value: t.text}, nil
	case tokNumber:
		return &NumberLit{Value: t.num}, nil
	case tokQuoted:
		if t.text == "" {
			return nil, p.errAt(t, "empty property name")
		}
		return &Property{Name: t.text}, nil
	case tokIdent:
	default:
		return nil, p.errAt(t, "expected a property or a literal, found %s", t.describe())
	}
	kw := t.upper()
	if kw == "TRUE" || kw == "FALSE" {
		return &BoolLit{Value: kw == "TRUE"}, nil
	}
	if isGeometryKeyword(kw) {
		if n := p.peek(); n.kind == tokLParen || n.upper() == "Z" || n.upper() == "EMPTY" {
			p.i--
			return p.geometry()
		}
	}
	if p.peek().kind != tokLParen {
		return &Property{Name: t.text}, nil
	}
	switch kw {
	case "DATE", "TIMESTAMP":
		p.i++
		s, err := p.expect(tokString, "a quoted "+strings.ToLower(kw))
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tokRParen, "')'"); err != nil {
			return nil, err
		}
		return instantLiteral(kw, s.text, s.pos)
	case "INTERVAL":
		p.i++
		start, err := p.intervalEnd()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tokComma, "',' between the interval ends"); err != nil {
			return nil, err
		}
		end, err := p.intervalEnd()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tokRParen, "')'"); err != nil {
			return nil, err
		}
		return &IntervalLit{Start: start, End: end}, nil
	case "BBOX":
		p.i--
		return p.geometry()
	}
	return nil, p.errAt(t, "function %s is not supported", t.text)
}

// instantLiteral checks the string of DATE(...) or TIMESTAMP(...).
func instantLiteral(kw, s string, pos int) (Expr, error) {
	if kw == "DATE" {
		if d, ok := parseDate(s); ok {
			return &DateLit{Value: d}, nil
		}
		return nil, &Error{Offset: pos, Message: "DATE(" + strconv.Quote(s) + ") is not a date like 2006-01-02"}
	}
	if ts, ok := parseTimestamp(s); ok {
		return &TimestampLit{Value: ts}, nil
	}
	return nil, &Error{Offset: pos, Message: "TIMESTAMP(" + strconv.Quote(s) + ") is not an RFC 3339 timestamp like 2006-01-02T15:04:05Z"}
}

// intervalEnd = "'..'" | instant string | DATE(...) | TIMESTAMP(...) | property
func (p *textParser) intervalEnd() (Expr, error) {
	t := p.peek()
	switch t.kind {
	case tokString:
		p.i++
		e, err := intervalEnd(t.text)
		if err != nil {
			err.(*Error).Offset = t.pos
			return nil, err
		}
		return e, nil
	case tokQuoted:
		// The standard's own examples quote interval ends with double
		// quotes; read them as literals when they look like one.
		if e, err := intervalEnd(t.text); err == nil {
			p.i++
			return e, nil
		}
	}
	e, err := p.operand()
	if err != nil {
		return nil, err
	}
	switch e.(type) {
	case *Property, *DateLit, *TimestampLit:
		return e, nil
	}
	return nil, p.errAt(t, "an interval end must be '..', a date, a timestamp or a property")
}

// args parses "(" operand { "," operand } ")" of a function.
func (p *textParser) args(name string) ([]Expr, error) {
	if _, err := p.expect(tokLParen, "'(' after "+name); err != nil {
		return nil, err
	}
	var args []Expr
	for {
		e, err := p.operand()
		if err != nil {
			return nil, err
		}
		args = append(args, e)
		if len(args) > 4 {
			return nil, errorf("%s has too many arguments", name)
		}
		t := p.next()
		if t.kind == tokRParen {
			return args, nil
		}
		if t.kind != tokComma {
			return nil, p.errAt(t, "expected ',' or ')' in %s(...), found %s", name, t.describe())
		}
	}
}

// spatial = S_FUNCTION "(" operand "," operand [ "," distance [ "," units ] ] ")"
func (p *textParser) spatial() (Expr, error) {
	t := p.next()
	op := strings.ToLower(t.text)
	if !isSpatialOp(op) {
		return nil, p.errAt(t, "spatial function %s is not supported", t.text)
	}
	args, err := p.args(t.text)
	if err != nil {
		return nil, err
	}
	return spatialExpr(op, args)
}

// temporal = T_FUNCTION "(" operand "," operand ")"
func (p *textParser) temporal() (Expr, error) {
	t := p.next()
	op := strings.ToLower(t.text)
	if !isTemporalOp(op) {
		return nil, p.errAt(t, "temporal function %s is not supported", t.text)
	}
	args, err := p.args(t.text)
	if err != nil {
		return nil, err
	}
	if len(args) != 2 {
		return nil, p.errAt(t, "%s takes 2 arguments, got %d", t.text, len(args))
	}
	return &Temporal{Op: op, Left: args[0], Right: args[1]}, nil
}
