package provider_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/claude-mem/claude-mem-server/host/provider"
)

const fullObservation = `<observation>
  <type>bugfix</type>
  <title>Migrations run in one transaction each</title>
  <subtitle>store.Migrate wraps every file in its own transaction</subtitle>
  <facts>
    <fact>Migration files are named NNNN_name.sql</fact>
    <fact>  </fact>
    <fact>A failing migration rolls back alone</fact>
  </facts>
  <narrative>The store applies &lt;numbered&gt; migrations &amp; records them.</narrative>
  <concepts>
    <concept>how-it-works</concept>
    <concept>gotcha: WAL mode</concept>
    <concept>bugfix</concept>
    <concept>:</concept>
  </concepts>
  <files_read><file>host/store/migrate.go</file></files_read>
  <files_modified><file>made/up.go</file></files_modified>
</observation>`

func TestParse(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		in      string
		want    provider.Parsed
		wantErr bool
	}{
		"full observation": {
			in: fullObservation,
			want: provider.Parsed{Kind: provider.ParsedObservations, Observations: []provider.Observation{{
				Type:          "bugfix",
				Title:         "Migrations run in one transaction each",
				Subtitle:      "store.Migrate wraps every file in its own transaction",
				Facts:         []string{"Migration files are named NNNN_name.sql", "A failing migration rolls back alone"},
				Narrative:     "The store applies <numbered> migrations & records them.",
				Concepts:      []string{"how-it-works", "gotcha"},
				FilesRead:     []string{"host/store/migrate.go"},
				FilesModified: []string{"made/up.go"},
			}}},
		},
		"xml fence stripped": {
			in:   "```xml\n<observation><type>change</type><title>T</title></observation>\n```",
			want: provider.Parsed{Kind: provider.ParsedObservations, Observations: []provider.Observation{{Type: "change", Title: "T"}}},
		},
		"bare fence stripped": {
			in:   "  ```\n<observation><title>T</title></observation>\n```  \n",
			want: provider.Parsed{Kind: provider.ParsedObservations, Observations: []provider.Observation{{Type: "bugfix", Title: "T"}}},
		},
		"missing type is the mode's first": {
			in:   "<observation><narrative>N</narrative></observation>",
			want: provider.Parsed{Kind: provider.ParsedObservations, Observations: []provider.Observation{{Type: "bugfix", Narrative: "N"}}},
		},
		"unknown type kept": {
			in:   "<observation><type>musing</type><facts><fact>F</fact></facts></observation>",
			want: provider.Parsed{Kind: provider.ParsedObservations, Observations: []provider.Observation{{Type: "musing", Facts: []string{"F"}}}},
		},
		"empty observation dropped, others kept": {
			in: "prose first <observation><type>change</type><subtitle>only a subtitle</subtitle></observation>" +
				"<OBSERVATION><concepts><concept>pattern</concept></concepts></OBSERVATION>",
			want: provider.Parsed{Kind: provider.ParsedObservations, Observations: []provider.Observation{{Type: "bugfix", Concepts: []string{"pattern"}}}},
		},
		"concepts that were only the type leave the observation empty": {
			in:      "<observation><type>change</type><concepts><concept>change: x</concept></concepts></observation>",
			wantErr: true,
		},
		"every observation empty is invalid": {
			in:      "<observation>  </observation>",
			wantErr: true,
		},
		"unterminated observation is invalid": {
			in:      "<observation><title>T</title>",
			wantErr: true,
		},
		"summary": {
			in: "<summary><request> Add budgets </request><investigated></investigated><learned>L</learned>" +
				"<completed>C</completed><next_steps>N</next_steps><notes>x &#x41;&#66;</notes></summary>",
			want: provider.Parsed{Kind: provider.ParsedSummary, Summary: &provider.Summary{
				Request: "Add budgets", Learned: "L", Completed: "C", NextSteps: "N", Notes: "x AB",
			}},
		},
		"summary with only notes is rejected": {
			in:      "<summary><notes>n</notes></summary>",
			wantErr: true,
		},
		"first root decides: summary before observation": {
			in:   "<summary><request>R</request></summary><observation><title>T</title></observation>",
			want: provider.Parsed{Kind: provider.ParsedSummary, Summary: &provider.Summary{Request: "R"}},
		},
		"first root decides: observation before summary": {
			in:   "<observation><title>T</title></observation><summary><request>R</request></summary>",
			want: provider.Parsed{Kind: provider.ParsedObservations, Observations: []provider.Observation{{Type: "bugfix", Title: "T"}}},
		},
		"skip_summary anywhere wins": {
			in:   `<summary><request>R</request></summary> <skip_summary reason="nothing &amp; more" />`,
			want: provider.Parsed{Kind: provider.ParsedSkipSummary, SkipReason: "nothing & more"},
		},
		"skip_summary without reason": {
			in:   "<SKIP_SUMMARY/>",
			want: provider.Parsed{Kind: provider.ParsedSkipSummary},
		},
		"empty answer is a skip": {
			in:   " \n\t",
			want: provider.Parsed{Kind: provider.ParsedEmpty},
		},
		"prose is unparseable": {
			in:      "I could not find anything worth recording in these events.",
			wantErr: true,
		},
		"a longer tag is not a root": {
			// <observations> starts like <observation, but \b does not hold.
			in:      "<observations>none</observations>",
			wantErr: true,
		},
		"cdata kept, bad refs left alone": {
			in:   "<observation><title><![CDATA[a &amp; b]]> &bogus; &#0; &#xD800; &amp;lt;</title></observation>",
			want: provider.Parsed{Kind: provider.ParsedObservations, Observations: []provider.Observation{{Type: "bugfix", Title: "<![CDATA[a &amp; b]]> &bogus; &#0; &#xD800; &lt;"}}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := provider.Parse(tc.in)
			if tc.wantErr {
				if !errors.Is(err, provider.ErrUnparseable) {
					t.Fatalf("err = %v, want ErrUnparseable (got %+v)", err, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Parse =\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

func TestParseErrorQuotesTheAnswer(t *testing.T) {
	t.Parallel()
	_, err := provider.Parse("Sorry, I am unable to help with that. " + strings.Repeat("x", 500))
	if err == nil || !strings.Contains(err.Error(), "Sorry, I am unable") || len(err.Error()) > 400 {
		t.Fatalf("err = %v", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		fullObservation,
		"```xml\n" + fullObservation + "\n```",
		"<summary><request>R</request><completed>C</completed></summary>",
		`<skip_summary reason="r"/>`,
		"<observation><title>&#x1F600;&amp;&lt;</title></observation>",
		"<observation><concepts><concept>a:b</concept><concept>bugfix</concept></concepts></observation>",
		"plain prose",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := provider.Parse(in)
		again, err2 := provider.Parse(in)
		if (err == nil) != (err2 == nil) || !reflect.DeepEqual(got, again) {
			t.Fatal("Parse is not deterministic")
		}
		if err != nil {
			if !errors.Is(err, provider.ErrUnparseable) {
				t.Fatalf("error %v does not wrap ErrUnparseable", err)
			}
			if !reflect.DeepEqual(got, provider.Parsed{}) {
				t.Fatalf("error with a result: %+v", got)
			}
			return
		}
		switch got.Kind {
		case provider.ParsedEmpty:
			if strings.TrimSpace(in) != "" {
				t.Fatalf("non-empty answer parsed as empty")
			}
		case provider.ParsedSkipSummary:
			if got.Summary != nil || got.Observations != nil {
				t.Fatal("skip with content")
			}
		case provider.ParsedSummary:
			s := got.Summary
			if s == nil || got.Observations != nil {
				t.Fatal("summary kind without a summary")
			}
			if s.Request == "" && s.Investigated == "" && s.Learned == "" && s.Completed == "" && s.NextSteps == "" {
				t.Fatal("summary with none of the required fields")
			}
			for _, v := range []string{s.Request, s.Investigated, s.Learned, s.Completed, s.NextSteps, s.Notes} {
				if v != strings.TrimSpace(v) {
					t.Fatalf("untrimmed field %q", v)
				}
			}
		case provider.ParsedObservations:
			if len(got.Observations) == 0 || got.Summary != nil {
				t.Fatal("observation kind without observations")
			}
			for _, o := range got.Observations {
				if o.Type == "" || o.Type != strings.TrimSpace(o.Type) {
					t.Fatalf("bad type %q", o.Type)
				}
				if o.Title == "" && o.Narrative == "" && len(o.Facts) == 0 && len(o.Concepts) == 0 {
					t.Fatal("empty observation kept")
				}
				for _, v := range []string{o.Title, o.Subtitle, o.Narrative} {
					if v != strings.TrimSpace(v) {
						t.Fatalf("untrimmed field %q", v)
					}
				}
				for _, list := range [][]string{o.Facts, o.FilesRead, o.FilesModified} {
					for _, v := range list {
						if v == "" || v != strings.TrimSpace(v) {
							t.Fatalf("bad list element %q", v)
						}
					}
				}
				for _, c := range o.Concepts {
					if c == "" || strings.Contains(c, ":") || c == o.Type || c != strings.TrimSpace(c) {
						t.Fatalf("bad concept %q (type %q)", c, o.Type)
					}
				}
			}
		default:
			t.Fatalf("unknown kind %v", got.Kind)
		}
	})
}
