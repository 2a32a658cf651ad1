package openapi

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/claude-mem/claude-mem-server/host/openapi/internal/describe"
	"github.com/google/jsonschema-go/jsonschema"
)

// modulePrefix marks the types that become named components. Types of
// other modules (time.Time, json.RawMessage) are described inline.
const modulePrefix = "github.com/claude-mem/claude-mem-server/"

// componentRef is where components live in the document.
const componentRef = "#/components/schemas/"

// builtins are the schemas of the types whose JSON form reflection cannot
// see: they marshal themselves.
var builtins = map[reflect.Type]*jsonschema.Schema{
	reflect.TypeFor[time.Time]():       {Type: "string", Format: "date-time"},
	reflect.TypeFor[json.RawMessage](): {Description: "Any JSON value."},
}

// schemas turns Go types into JSON Schema 2020-12 (the dialect of OpenAPI
// 3.1) with jsonschema-go's inference: fields without omitempty are
// required, nil slices and pointers may be null, and objects have no
// properties beyond their fields, so that a validator catches a response
// field the document does not declare. Every named struct type of this
// module becomes a component, referenced by $ref, except those that are
// embedded in another struct: encoding/json flattens them into the outer
// object, and so does the schema.
type schemas struct {
	names      map[reflect.Type]string
	byName     map[string]reflect.Type
	order      []reflect.Type
	embedded   map[reflect.Type]bool
	requestUse map[reflect.Type]bool
	reply      map[reflect.Type]bool
}

func newSchemas() *schemas {
	return &schemas{
		names: map[reflect.Type]string{}, byName: map[string]reflect.Type{},
		embedded: map[reflect.Type]bool{}, requestUse: map[reflect.Type]bool{}, reply: map[reflect.Type]bool{},
	}
}

// add registers t and every struct type it reaches. request says whether
// it is read from a request body (see component).
func (s *schemas) add(t reflect.Type, request bool) error {
	return s.walk(t, request, map[reflect.Type]bool{})
}

func (s *schemas) walk(t reflect.Type, request bool, seen map[reflect.Type]bool) error {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
		if t.Kind() == reflect.Map && t.Key().Kind() != reflect.String {
			return fmt.Errorf("openapi: %v: map keys must be strings", t)
		}
		if _, ok := builtins[t]; ok {
			return nil
		}
		t = t.Elem()
	}
	if _, ok := builtins[t]; ok || seen[t] {
		return nil
	}
	seen[t] = true
	if t.Kind() != reflect.Struct {
		if t.Implements(marshaler) || reflect.PointerTo(t).Implements(marshaler) {
			return fmt.Errorf("openapi: %v marshals itself: describe it in builtins", t)
		}
		return nil
	}
	if t.Implements(marshaler) || reflect.PointerTo(t).Implements(marshaler) {
		return fmt.Errorf("openapi: %v marshals itself: describe it in builtins", t)
	}
	if request {
		s.requestUse[t] = true
	} else {
		s.reply[t] = true
	}
	if s.named(t) {
		if _, ok := s.names[t]; !ok {
			s.names[t] = ""
			s.order = append(s.order, t)
		}
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous {
			s.embedded[deref(f.Type)] = true
		}
		if !f.IsExported() && !f.Anonymous {
			continue
		}
		if err := s.walk(f.Type, request, seen); err != nil {
			return err
		}
	}
	return nil
}

var marshaler = reflect.TypeFor[json.Marshaler]()

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// named says whether t can be a component: a named struct type of this
// module.
func (s *schemas) named(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && t.Name() != "" && strings.HasPrefix(t.PkgPath(), modulePrefix)
}

// assignNames names the components: the type's name, or its entry in
// renames. Two types of one name are an error that names both, so that
// the document never depends on the order it meets them in.
func (s *schemas) assignNames(renames map[reflect.Type]string) error {
	for _, t := range s.order {
		if s.embedded[t] {
			continue
		}
		name := t.Name()
		if n, ok := renames[t]; ok {
			name = n
		}
		if other, taken := s.byName[name]; taken {
			return fmt.Errorf("openapi: %v and %v are both component %q: give one a name in componentNames", other, t, name)
		}
		s.names[t] = name
		s.byName[name] = t
	}
	return nil
}

// refs are the TypeSchemas that make jsonschema-go write a $ref for every
// component other than self.
func (s *schemas) refs(self reflect.Type) map[reflect.Type]*jsonschema.Schema {
	m := map[reflect.Type]*jsonschema.Schema{}
	for t, b := range builtins {
		m[t] = b
	}
	for t, name := range s.names {
		if name == "" || t == self {
			continue
		}
		m[t] = &jsonschema.Schema{Ref: componentRef + name}
	}
	return m
}

// schemaOf is the schema of t where it is used: a $ref for a component,
// inline otherwise.
func (s *schemas) schemaOf(t reflect.Type) (*jsonschema.Schema, error) {
	sc, err := jsonschema.ForType(t, &jsonschema.ForOptions{TypeSchemas: s.refs(nil)})
	if err != nil {
		return nil, fmt.Errorf("openapi: schema of %v: %w", t, err)
	}
	return tidy(sc, s.relaxed(t)), nil
}

// component is the schema of the component t. A type read only from
// request bodies lists as required only what requestRequired names:
// omitting a field of a request is not the same as omitting it from a
// reply, and the handlers answer a missing one with an error that says
// why.
func (s *schemas) component(t reflect.Type) (*jsonschema.Schema, error) {
	sc, err := jsonschema.ForType(t, &jsonschema.ForOptions{TypeSchemas: s.refs(t)})
	if err != nil {
		return nil, fmt.Errorf("openapi: schema of %v: %w", t, err)
	}
	relaxed := s.relaxed(t)
	sc = tidy(sc, relaxed)
	addDescriptions(t, s.names[t], sc)
	if need, ok := requestRequired[t]; ok {
		if !relaxed {
			return nil, fmt.Errorf("openapi: %v is in requestRequired but is also an answer", t)
		}
		for _, name := range need {
			if _, ok := sc.Properties[name]; !ok {
				return nil, fmt.Errorf("openapi: requestRequired names %v.%s, which it does not have", t, name)
			}
		}
		sc.Required = need
	}
	return sc, nil
}

// relaxed says whether t's schema drops its required lists (request-only
// types).
func (s *schemas) relaxed(t reflect.Type) bool {
	t = deref(t)
	for t.Kind() == reflect.Slice {
		t = deref(t.Elem())
	}
	return s.requestUse[t] && !s.reply[t]
}

// components are the named schemas, sorted by name.
func (s *schemas) components() (map[string]*jsonschema.Schema, error) {
	out := map[string]*jsonschema.Schema{}
	names := make([]string, 0, len(s.byName))
	for n := range s.byName {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		sc, err := s.component(s.byName[n])
		if err != nil {
			return nil, err
		}
		out[n] = sc
	}
	return out, nil
}

// tidy rewrites what jsonschema-go infers into what OpenAPI tools read
// best:
//   - a nullable $ref ({"$ref": X, "type": ["null"]}, which would only
//     match null) becomes {"anyOf": [{"$ref": X}, {"type": "null"}]};
//   - an empty schema (any value), which marshals as the boolean true,
//     gets a description so that it stays an object;
//   - request-only schemas lose their required lists.
func tidy(s *jsonschema.Schema, relaxed bool) *jsonschema.Schema {
	if s == nil {
		return nil
	}
	if s.Ref != "" && slices.Contains(s.Types, "null") {
		return &jsonschema.Schema{AnyOf: []*jsonschema.Schema{{Ref: s.Ref}, {Type: "null"}}}
	}
	if relaxed {
		s.Required = nil
	}
	for k, p := range s.Properties {
		s.Properties[k] = tidy(p, relaxed)
		if isEmpty(s.Properties[k]) {
			s.Properties[k] = &jsonschema.Schema{Description: "Any JSON value."}
		}
	}
	s.Items = tidy(s.Items, relaxed)
	if s.AdditionalProperties != nil && s.AdditionalProperties.Not == nil {
		s.AdditionalProperties = tidy(s.AdditionalProperties, relaxed)
		if isEmpty(s.AdditionalProperties) {
			s.AdditionalProperties = &jsonschema.Schema{Description: "Any JSON value."}
		}
	}
	for i := range s.AnyOf {
		s.AnyOf[i] = tidy(s.AnyOf[i], relaxed)
	}
	for i := range s.OneOf {
		s.OneOf[i] = tidy(s.OneOf[i], relaxed)
	}
	return s
}

func isEmpty(s *jsonschema.Schema) bool {
	if s == nil {
		return false
	}
	b, err := json.Marshal(s)
	return err == nil && string(b) == "true"
}

// addDescriptions gives the schema of struct type t, the component name,
// and its properties the doc comments of the type and of its fields
// (descriptions_gen.go), naming the component where the comment names the
// Go type. A promoted field takes the comment it has in the struct that
// declares it.
func addDescriptions(t reflect.Type, name string, sc *jsonschema.Schema) {
	if d := descriptions[describe.Key(t, "")]; d != "" {
		if rest, ok := strings.CutPrefix(d, t.Name()+" "); ok && name != "" {
			d = name + " " + rest
		}
		sc.Description = d
	}
	for _, f := range reflect.VisibleFields(t) {
		if f.Anonymous || !f.IsExported() {
			continue
		}
		prop, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if prop == "-" {
			continue
		}
		if prop == "" {
			prop = f.Name
		}
		p := sc.Properties[prop]
		if p == nil {
			continue
		}
		decl := t
		for _, i := range f.Index[:len(f.Index)-1] {
			decl = deref(decl.Field(i).Type)
		}
		if d := descriptions[describe.Key(decl, f.Name)]; d != "" {
			p.Description = d
		}
	}
}
