//go:build !cgo

package gpu

import "github.com/autoresearch/autoresearch/research"

// Library stands in for nvml.Interface in a build without cgo; it is ignored.
type Library = any

// Open returns the unavailable monitor: go-nvml needs cgo.
func Open(opts Options) research.GPUMonitor {
	return Unavailable("built without cgo", opts.logger())
}
