// Package chart draws a run's progress as a PNG (val_bpb per experiment,
// kept ones labelled, the running best as a step line, crashes as
// crosses) for the digest. It draws in pure Go with the Go fonts
// (golang.org/x/image), so it needs no cgo and no system fonts.
package chart
