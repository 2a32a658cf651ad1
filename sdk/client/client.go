package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
)

// DefaultUserAgent is the User-Agent a Client sends unless WithUserAgent
// changes it.
const DefaultUserAgent = "claude-mem-go-client/1"

// maxBody bounds a JSON answer the client reads into memory. An export,
// the one large answer, is streamed instead.
const maxBody = 64 << 20

// Client calls the REST v1 API of one claude-mem server. It is safe for
// concurrent use.
type Client struct {
	base      *url.URL
	http      *http.Client
	apiKey    string
	userAgent string
}

// Option configures a Client.
type Option func(*Client)

// WithAPIKey sends key as "Authorization: Bearer <key>" on every request.
// A server in local mode needs none from loopback.
func WithAPIKey(key string) Option {
	return func(c *Client) { c.apiKey = key }
}

// WithHTTPClient sends requests through hc instead of
// http.DefaultClient; set timeouts, proxies and TLS there.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.http = hc
		}
	}
}

// WithUserAgent replaces DefaultUserAgent.
func WithUserAgent(ua string) Option {
	return func(c *Client) { c.userAgent = ua }
}

// New returns a client of the server at baseURL, such as
// "http://127.0.0.1:37700". A path in baseURL is kept as a prefix, for a
// server behind a reverse proxy.
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(baseURL))
	if err != nil {
		return nil, fmt.Errorf("client: base URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("client: base URL %q must be http:// or https:// with a host", baseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("client: base URL %q must have no query or fragment", baseURL)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	c := &Client{base: u, http: http.DefaultClient, userAgent: DefaultUserAgent}
	for _, opt := range opts {
		opt(c)
	}
	return c, nil
}

// BaseURL is the server's URL, as given to New without a trailing slash.
func (c *Client) BaseURL() string { return c.base.String() }

// request is one call: path is already escaped.
type request struct {
	method string
	path   string
	query  url.Values
	// body is sent as JSON unless raw is set.
	body        any
	raw         io.Reader
	contentType string
	// accept is the media type asked for; default JSON.
	accept string
}

// send performs r and returns the response of a 2xx status; any other
// status is read and returned as an *Error. The caller closes the body.
func (c *Client) send(ctx context.Context, r request) (*http.Response, error) {
	target := c.base.String() + r.path
	if q := r.query.Encode(); q != "" {
		target += "?" + q
	}
	var body io.Reader
	contentType := r.contentType
	switch {
	case r.raw != nil:
		body = r.raw
	case r.body != nil:
		b, err := json.Marshal(r.body)
		if err != nil {
			return nil, fmt.Errorf("client: %s %s: encode body: %w", r.method, r.path, err)
		}
		body, contentType = bytes.NewReader(b), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, body)
	if err != nil {
		return nil, fmt.Errorf("client: %s %s: %w", r.method, r.path, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	accept := r.accept
	if accept == "" {
		accept = "application/json"
	}
	req.Header.Set("Accept", accept)
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	if c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("client: %s %s: %w", r.method, r.path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer resp.Body.Close()
		return nil, newError(r.method, r.path, resp)
	}
	return resp, nil
}

// do performs r and decodes its JSON answer into out. It
// returns the status, for the routes that answer 200 or 201.
func (c *Client) do(ctx context.Context, r request, out any) (int, error) {
	resp, err := c.send(ctx, r)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := readBody(resp.Body)
	if err != nil {
		return resp.StatusCode, fmt.Errorf("client: %s %s: read answer: %w", r.method, r.path, err)
	}
	if err := decode(data, out); err != nil {
		return resp.StatusCode, fmt.Errorf("client: %s %s: decode answer: %w", r.method, r.path, err)
	}
	return resp.StatusCode, nil
}

func readBody(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxBody+1))
	if err == nil && len(data) > maxBody {
		err = fmt.Errorf("the answer exceeds %d bytes", maxBody)
	}
	return data, err
}

// strictDecoding makes every decode refuse unknown fields and check that
// re-encoding the value gives the JSON that was read. Only the package's
// tests set it (export_test.go): production decoding ignores fields a newer
// server adds.
var strictDecoding bool

func decode(data []byte, out any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if strictDecoding {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(out); err != nil {
		return err
	}
	if strictDecoding {
		return roundTrip(data, out)
	}
	return nil
}

// roundTrip reports a difference between data and out encoded again: a
// field whose type, pointer or omitempty choice loses what the server sent.
func roundTrip(data []byte, out any) error {
	again, err := json.Marshal(out)
	if err != nil {
		return fmt.Errorf("re-encode: %w", err)
	}
	var want, got any
	if err := json.Unmarshal(data, &want); err != nil {
		return err
	}
	if err := json.Unmarshal(again, &got); err != nil {
		return err
	}
	if !reflect.DeepEqual(want, got) {
		return fmt.Errorf("%w:\nserver:  %s\nclient:  %s", errLossy, bytes.TrimSpace(data), again)
	}
	return nil
}

var errLossy = errors.New("decoding and re-encoding changes the answer")

// escape escapes one path segment.
func escape(s string) string { return url.PathEscape(s) }
