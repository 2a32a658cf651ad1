package installer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
)

// node is a JSON value that keeps what a settings file's owner wrote: the
// order of object keys, duplicate keys, and every scalar byte for byte
// (string escapes, number spelling). Only whitespace is re-laid out when it
// is encoded.
type node struct {
	kind byte // '{', '[' or 's' (a scalar)
	// keys are the raw key tokens of an object, vals its values, or an
	// array's elements.
	keys [][]byte
	vals []*node
	// raw is a scalar's token.
	raw []byte
}

// parseDoc parses a JSON document.
func parseDoc(b []byte) (*node, error) {
	if !json.Valid(b) {
		var v any
		err := json.Unmarshal(b, &v)
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	p := &parser{b: b}
	n := p.value()
	return n, nil
}

type parser struct {
	b   []byte
	pos int
}

func (p *parser) ws() {
	for p.pos < len(p.b) {
		switch p.b[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// value parses the value at pos; the input is known to be valid JSON.
func (p *parser) value() *node {
	p.ws()
	switch p.b[p.pos] {
	case '{':
		p.pos++
		n := &node{kind: '{'}
		for {
			p.ws()
			if p.b[p.pos] == '}' {
				p.pos++
				return n
			}
			if p.b[p.pos] == ',' {
				p.pos++
				continue
			}
			key := p.str()
			p.ws()
			p.pos++ // ':'
			n.keys = append(n.keys, key)
			n.vals = append(n.vals, p.value())
		}
	case '[':
		p.pos++
		n := &node{kind: '['}
		for {
			p.ws()
			if p.b[p.pos] == ']' {
				p.pos++
				return n
			}
			if p.b[p.pos] == ',' {
				p.pos++
				continue
			}
			n.vals = append(n.vals, p.value())
		}
	case '"':
		return &node{kind: 's', raw: p.str()}
	default:
		start := p.pos
		for p.pos < len(p.b) {
			c := p.b[p.pos]
			if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r' {
				break
			}
			p.pos++
		}
		return &node{kind: 's', raw: p.b[start:p.pos]}
	}
}

// str returns the raw string token at pos, quotes included.
func (p *parser) str() []byte {
	start := p.pos
	p.pos++ // opening quote
	for p.b[p.pos] != '"' {
		if p.b[p.pos] == '\\' {
			p.pos++
		}
		p.pos++
	}
	p.pos++
	return p.b[start:p.pos]
}

// encode lays the document out as Claude Code writes settings.json
// (JavaScript's JSON.stringify with an indent of 2).
func (n *node) encode() []byte {
	var buf bytes.Buffer
	n.write(&buf, 0)
	return buf.Bytes()
}

func (n *node) write(buf *bytes.Buffer, depth int) {
	indent := func(d int) {
		buf.WriteByte('\n')
		for range d {
			buf.WriteString("  ")
		}
	}
	switch n.kind {
	case '{':
		if len(n.keys) == 0 {
			buf.WriteString("{}")
			return
		}
		buf.WriteByte('{')
		for i, k := range n.keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			indent(depth + 1)
			buf.Write(k)
			buf.WriteString(": ")
			n.vals[i].write(buf, depth+1)
		}
		indent(depth)
		buf.WriteByte('}')
	case '[':
		if len(n.vals) == 0 {
			buf.WriteString("[]")
			return
		}
		buf.WriteByte('[')
		for i, v := range n.vals {
			if i > 0 {
				buf.WriteByte(',')
			}
			indent(depth + 1)
			v.write(buf, depth+1)
		}
		indent(depth)
		buf.WriteByte(']')
	default:
		buf.Write(n.raw)
	}
}

// fromValue converts a Go value into a node, without HTML escaping.
func fromValue(v any) (*node, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return parseDoc(bytes.TrimSpace(buf.Bytes()))
}

// keyName decodes a raw key token.
func keyName(raw []byte) string {
	var s string
	_ = json.Unmarshal(raw, &s)
	return s
}

// index returns the position of the last key named name (the one
// JavaScript's JSON.parse keeps), or -1.
func (n *node) index(name string) int {
	at := -1
	for i, k := range n.keys {
		if keyName(k) == name {
			at = i
		}
	}
	return at
}

// get returns the value of key name, or nil.
func (n *node) get(name string) *node {
	if n == nil || n.kind != '{' {
		return nil
	}
	if i := n.index(name); i >= 0 {
		return n.vals[i]
	}
	return nil
}

// set sets key name, appending it when new.
func (n *node) set(name string, v *node) {
	if i := n.index(name); i >= 0 {
		n.vals[i] = v
		return
	}
	raw, _ := json.Marshal(name)
	n.keys = append(n.keys, raw)
	n.vals = append(n.vals, v)
}

// del removes every key named name.
func (n *node) del(name string) {
	for i := len(n.keys) - 1; i >= 0; i-- {
		if keyName(n.keys[i]) == name {
			n.keys = append(n.keys[:i], n.keys[i+1:]...)
			n.vals = append(n.vals[:i], n.vals[i+1:]...)
		}
	}
}

// clone deep-copies n.
func (n *node) clone() *node {
	if n == nil {
		return nil
	}
	c := &node{kind: n.kind, raw: n.raw}
	c.keys = append([][]byte(nil), n.keys...)
	for _, v := range n.vals {
		c.vals = append(c.vals, v.clone())
	}
	return c
}

// decoded is n as encoding/json sees it, for semantic comparison.
func (n *node) decoded() any {
	dec := json.NewDecoder(bytes.NewReader(n.encode()))
	dec.UseNumber()
	var v any
	_ = dec.Decode(&v)
	return v
}

// sameJSON reports whether two documents mean the same.
func sameJSON(a, b *node) bool {
	if a == nil || b == nil {
		return a == b
	}
	return reflect.DeepEqual(a.decoded(), b.decoded())
}

// str returns a string scalar's value, or "".
func (n *node) str() string {
	if n == nil || n.kind != 's' || len(n.raw) == 0 || n.raw[0] != '"' {
		return ""
	}
	var s string
	_ = json.Unmarshal(n.raw, &s)
	return s
}

var errNotObject = errors.New("is not a JSON object")
