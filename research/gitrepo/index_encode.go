package gitrepo

import (
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"github.com/go-git/go-git/v5/plumbing/format/index"
)

// encodeIndex writes entries, already in index order, as an index file of
// version 2 or 3 without extensions: the bytes go-git's encoder writes, at
// a fraction of its cost (it encodes field by field through reflection,
// about 1 µs an entry, which on a big tree was most of what a reset or
// commit cost besides the files it wrote).
func encodeIndex(w io.Writer, version uint32, entries []*index.Entry) error {
	if version != 2 && version != 3 {
		return fmt.Errorf("encode index: version %d is not 2 or 3", version)
	}
	sum := sha1.New()
	buf := make([]byte, 0, 64<<10)
	flush := func() error {
		sum.Write(buf)
		_, err := w.Write(buf)
		buf = buf[:0]
		return err
	}
	buf = append(buf, "DIRC"...)
	buf = binary.BigEndian.AppendUint32(buf, version)
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(entries)))
	for _, e := range entries {
		csec, cnsec, err := indexTime(e.CreatedAt)
		if err != nil {
			return err
		}
		msec, mnsec, err := indexTime(e.ModifiedAt)
		if err != nil {
			return err
		}
		for _, v := range [...]uint32{csec, cnsec, msec, mnsec, e.Dev, e.Inode, uint32(e.Mode), e.UID, e.GID, e.Size} {
			buf = binary.BigEndian.AppendUint32(buf, v)
		}
		buf = append(buf, e.Hash[:]...)
		flags := uint16(e.Stage&0x3) << 12
		flags |= uint16(min(len(e.Name), 0xfff))
		size := 62 + len(e.Name)
		if e.IntentToAdd || e.SkipWorktree {
			var ext uint16
			if e.IntentToAdd {
				ext |= 1 << 13
			}
			if e.SkipWorktree {
				ext |= 1 << 14
			}
			buf = binary.BigEndian.AppendUint16(buf, flags|0x4000)
			buf = binary.BigEndian.AppendUint16(buf, ext)
			size += 2
		} else {
			buf = binary.BigEndian.AppendUint16(buf, flags)
		}
		buf = append(buf, e.Name...)
		// 1 to 8 NULs end the name and pad the entry to a multiple of 8.
		for pad := 8 - size%8; pad > 0; pad-- {
			buf = append(buf, 0)
		}
		if len(buf) >= 60<<10 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	_, err := w.Write(sum.Sum(nil))
	return err
}

// indexTime is a timestamp as the index stores it: zero for the zero time,
// refused before 1970.
func indexTime(t time.Time) (sec, nsec uint32, err error) {
	if t.IsZero() {
		return 0, 0, nil
	}
	if t.Unix() < 0 || t.UnixNano() < 0 {
		return 0, 0, index.ErrInvalidTimestamp
	}
	return uint32(t.Unix()), uint32(t.Nanosecond()), nil
}
