package search_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/host/memory"
	"github.com/claude-mem/claude-mem-server/host/search"
)

func (f *fixture) timeline(t *testing.T, req search.TimelineRequest) (search.Timeline, error) {
	t.Helper()
	if req.TeamID == "" {
		req.TeamID = memory.LocalTeam
	}
	return search.GetTimeline(context.Background(), f.env.Reader(), req)
}

func timelineKeys(tl search.Timeline) []hitKey {
	var out []hitKey
	for _, h := range tl.Items {
		out = append(out, hitKey{h.Kind, h.ID})
	}
	return out
}

func TestTimeline(t *testing.T) {
	t.Parallel()
	f := setup(t)
	// The local team's rows in order: api1 (-1m), jwt and expiry (0m, same
	// millisecond: by id), schema (90m), summary api (100m), web1 (1d-1m),
	// css (1d), decision (1d+30m). The private prompt is never shown.
	all := []hitKey{f.p("api1"), f.o("jwt"), f.o("expiry"), f.o("schema"), f.s("api"), f.p("web1"), f.o("css"), f.o("decision")}
	for name, tc := range map[string]struct {
		req  search.TimelineRequest
		want []hitKey
	}{
		"observation":        {search.TimelineRequest{Anchor: strconv.FormatInt(f.obs["schema"], 10), DepthBefore: 2, DepthAfter: 2}, all[1:6]},
		"hash id":            {search.TimelineRequest{Anchor: "#" + strconv.FormatInt(f.obs["schema"], 10), DepthBefore: 1, DepthAfter: 0}, all[2:4]},
		"summary":            {search.TimelineRequest{Anchor: "S" + strconv.FormatInt(f.sums["api"], 10), DepthBefore: 1, DepthAfter: 1}, all[3:6]},
		"tie in millisecond": {search.TimelineRequest{Anchor: strconv.FormatInt(f.obs["expiry"], 10), DepthBefore: 1, DepthAfter: 1}, all[1:4]},
		"time":               {search.TimelineRequest{Anchor: base.Add(24 * time.Hour).Format(time.RFC3339), DepthBefore: 1, DepthAfter: 1}, all[5:8]},
		"time before all":    {search.TimelineRequest{Anchor: "2020-01-01", DepthBefore: 3, DepthAfter: 1}, all[0:2]},
		"time after all":     {search.TimelineRequest{Anchor: "2030-01-01T00:00:00Z", DepthBefore: 1, DepthAfter: 5}, all[6:8]},
		"default depth":      {search.TimelineRequest{Anchor: strconv.FormatInt(f.obs["css"], 10), DepthBefore: search.DefaultDepth, DepthAfter: search.DefaultDepth}, all},
		"zero depth":         {search.TimelineRequest{Anchor: strconv.FormatInt(f.obs["css"], 10)}, all[6:7]},
		"query":              {search.TimelineRequest{Query: "palette variables", DepthBefore: 1, DepthAfter: 1}, all[5:8]},
		"project":            {search.TimelineRequest{Anchor: strconv.FormatInt(f.obs["css"], 10), DepthBefore: 5, DepthAfter: 5, Projects: []string{"web"}}, []hitKey{f.p("web1"), f.o("css"), f.o("decision")}},
		"platform":           {search.TimelineRequest{Anchor: "2020-01-01", DepthAfter: 5, PlatformSource: "codex"}, []hitKey{f.p("web1"), f.o("css"), f.o("decision")}},
		"other team's time":  {search.TimelineRequest{TeamID: "acme", Anchor: "2020-01-01", DepthAfter: 9}, []hitKey{f.p("acme1"), f.o("secret"), f.s("acme")}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tl, err := f.timeline(t, tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if got := timelineKeys(tl); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			for _, h := range tl.Items {
				if h.Observation == nil && h.Summary == nil && h.Prompt == nil {
					t.Errorf("item %v not hydrated", h)
				}
			}
		})
	}
}

func TestTimelineErrors(t *testing.T) {
	t.Parallel()
	f := setup(t)
	for name, tc := range map[string]struct {
		req  search.TimelineRequest
		want error
	}{
		"other team's observation": {search.TimelineRequest{Anchor: strconv.FormatInt(f.obs["secret"], 10)}, search.ErrAnchorNotFound},
		"other team's summary":     {search.TimelineRequest{Anchor: "S" + strconv.FormatInt(f.sums["acme"], 10)}, search.ErrAnchorNotFound},
		"other project":            {search.TimelineRequest{Anchor: strconv.FormatInt(f.obs["css"], 10), Projects: []string{"api"}}, search.ErrAnchorNotFound},
		"missing":                  {search.TimelineRequest{Anchor: "999999"}, search.ErrAnchorNotFound},
		"no match":                 {search.TimelineRequest{Query: "zebra"}, search.ErrAnchorNotFound},
		"garbage":                  {search.TimelineRequest{Anchor: "yesterday-ish"}, search.ErrBadAnchor},
		"nothing":                  {search.TimelineRequest{Query: `"*"`}, search.ErrBadAnchor},
		"no team":                  {search.TimelineRequest{TeamID: "", Anchor: "1"}, search.ErrNoTeam},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var err error
			if name == "no team" {
				_, err = search.GetTimeline(context.Background(), f.env.Reader(), tc.req)
			} else {
				_, err = f.timeline(t, tc.req)
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestGetObservations(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ids := []int64{f.obs["css"], f.obs["secret"], 999999, f.obs["jwt"], f.obs["css"]}
	got, err := search.GetObservations(context.Background(), f.env.Reader(), memory.LocalTeam, ids)
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, o := range got {
		titles = append(titles, o.Title)
	}
	if want := []string{"Dark theme colours", "Added JWT authentication"}; !slices.Equal(titles, want) {
		t.Errorf("got %v, want %v", titles, want)
	}
	if got[1].Narrative == "" || len(got[1].Facts) != 2 || got[1].DiscoveryTokens != 4200 || !got[1].CreatedAt.Equal(base) {
		t.Errorf("full row: %+v", got[1])
	}
	if _, err := search.GetObservations(context.Background(), f.env.Reader(), "", ids); !errors.Is(err, search.ErrNoTeam) {
		t.Errorf("no team: %v", err)
	}
}

func TestText(t *testing.T) {
	t.Parallel()
	f := setup(t)
	opt := search.TextOptions{Location: time.UTC, Cwd: "/src/api"}
	res := f.search(t, search.Request{Query: "token"})
	golden(t, "search_token.golden", res.Text(opt))
	res = f.search(t, search.Request{Query: "token", OrderBy: search.OrderDateAsc})
	golden(t, "search_token_date.golden", res.Text(opt))
	golden(t, "search_none.golden", f.search(t, search.Request{Query: `zebra "quoted"`}).Text(opt))
	tl, err := f.timeline(t, search.TimelineRequest{Anchor: strconv.FormatInt(f.obs["schema"], 10), DepthBefore: 10, DepthAfter: 10})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "timeline_observation.golden", tl.Text(opt))
	tl, err = f.timeline(t, search.TimelineRequest{Query: "palette", DepthBefore: 2, DepthAfter: 2})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "timeline_query.golden", tl.Text(opt))
}
