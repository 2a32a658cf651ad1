package client

// The tests decode every answer strictly: a field the server sends that a
// client type lacks, or loses when encoded again, fails them.
func init() { strictDecoding = true }
