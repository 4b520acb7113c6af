//go:build !linux

package org

// threadCPU is not measured outside Linux.
func threadCPU() int64 { return 0 }
