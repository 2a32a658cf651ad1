package adapterclaudecode

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"strings"
)

// Why an assistant_message has no text. They travel in metadata
// "text_missing" so that an operator can tell a quiet turn from a broken
// transcript.
const (
	missingNoTranscript   = "no_transcript_path"
	missingDisabled       = "transcript_reading_disabled"
	missingUnreadable     = "transcript_unreadable"
	missingNoTextThisTurn = "no_assistant_text_after_last_prompt"
	missingNoText         = "no_assistant_text"
)

// Transcript tail scanning. Claude Code transcripts reach gigabytes, and the
// final answer is almost always in the last few kilobytes, so the file is
// read backwards in growing chunks, and never more than maxScan bytes of it.
const (
	transcriptFirstChunk = 64 << 10
	transcriptMaxChunk   = 4 << 20
	// defaultTranscriptMaxScan is how much of a transcript's tail the
	// Stop fallback reads at most.
	defaultTranscriptMaxScan = 16 << 20
)

// lastAssistantText returns the text of the newest assistant turn in a
// Claude Code JSONL transcript, or "" and why there is none.
//
// The file is written asynchronously and may lag behind the Stop hook, so
// the scan stops at the newest real user prompt: text older than that
// belongs to an earlier turn, and reporting it as this turn's answer would
// be worse than reporting none. (A turn in which the agent wrote no text at
// all looks the same, hence the reason's name.) Torn or malformed lines (a write in
// progress) are skipped. With sidechain false, subagent lines that older
// Claude Code versions interleave into the main transcript are skipped;
// a subagent's own transcript consists of nothing else.
func lastAssistantText(ctx context.Context, path string, maxScan int64, sidechain bool) (string, string) {
	f, err := openRegular(path)
	if err != nil {
		return "", missingUnreadable
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", missingUnreadable
	}

	var (
		end     = fi.Size()
		chunk   = int64(transcriptFirstChunk)
		scanned int64
		carry   []byte // the head of a line that began before the chunk
	)
	for end > 0 && scanned < maxScan {
		if ctx.Err() != nil {
			return "", missingUnreadable
		}
		n := min(chunk, end, maxScan-scanned)
		start := end - n
		buf := make([]byte, int(n)+len(carry))
		if _, err := f.ReadAt(buf[:n], start); err != nil && err != io.EOF {
			return "", missingUnreadable
		}
		copy(buf[n:], carry)
		end, scanned, chunk = start, scanned+n, min(chunk*4, transcriptMaxChunk)

		lines := buf
		carry = nil
		if start > 0 {
			i := bytes.IndexByte(buf, '\n')
			if i < 0 {
				carry = buf // the middle of one long line: keep reading
				continue
			}
			carry, lines = buf[:i], buf[i+1:]
		}
		switch text, v := scanLines(lines, sidechain); v {
		case verdictText:
			return text, ""
		case verdictPrompt:
			return "", missingNoTextThisTurn
		}
	}
	return "", missingNoText
}

// openRegular opens path only when it is a regular file: a FIFO or a device
// named in a payload must not hang or flood the hook.
func openRegular(path string) (*os.File, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, os.ErrInvalid
	}
	return os.Open(path)
}

type verdict int

const (
	verdictNone   verdict = iota // keep scanning
	verdictText                  // found the answer
	verdictPrompt                // reached this turn's prompt without text
)

// scanLines walks the complete lines of one chunk from the last to the
// first.
func scanLines(chunk []byte, sidechain bool) (string, verdict) {
	for len(chunk) > 0 {
		var line []byte
		if i := bytes.LastIndexByte(chunk, '\n'); i >= 0 {
			line, chunk = chunk[i+1:], chunk[:i]
		} else {
			line, chunk = chunk, nil
		}
		if text, v := classify(line, sidechain); v != verdictNone {
			return text, v
		}
	}
	return "", verdictNone
}

// transcriptEntry is the part of a transcript line the scan reads.
type transcriptEntry struct {
	Type        string `json:"type"`
	IsMeta      bool   `json:"isMeta"`
	IsSidechain bool   `json:"isSidechain"`
	Message     *struct {
		Content json.RawMessage `json:"content"`
	} `json:"message"`
}

type contentBlock struct {
	Type string  `json:"type"`
	Text *string `json:"text"`
}

func classify(line []byte, sidechain bool) (string, verdict) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] != '{' {
		return "", verdictNone
	}
	var e transcriptEntry
	if json.Unmarshal(line, &e) != nil || e.Message == nil || (e.IsSidechain && !sidechain) {
		return "", verdictNone
	}
	switch e.Type {
	case "assistant":
		if text, _ := contentText(e.Message.Content); strings.TrimSpace(text) != "" {
			return text, verdictText
		}
	case "user":
		// Tool results and injected meta lines are "user" lines too; only a
		// prompt someone typed starts a new turn.
		if e.IsMeta {
			return "", verdictNone
		}
		if text, toolResult := contentText(e.Message.Content); !toolResult && strings.TrimSpace(text) != "" {
			return "", verdictPrompt
		}
	}
	return "", verdictNone
}

// contentText joins the text blocks of a message's content, which is either
// a string or an array of blocks, and reports whether it held a tool result.
func contentText(raw json.RawMessage) (string, bool) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, false
	}
	var blocks []contentBlock
	if json.Unmarshal(raw, &blocks) != nil {
		return "", false
	}
	var (
		texts      []string
		toolResult bool
	)
	for _, b := range blocks {
		switch {
		case b.Type == "tool_result":
			toolResult = true
		case b.Text != nil && (b.Type == "text" || b.Type == ""):
			texts = append(texts, *b.Text)
		}
	}
	return strings.Join(texts, "\n"), toolResult
}
