package sheet

import (
	"archive/zip"
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/xuri/excelize/v2"
)

// xlsxSource streams the rows of a workbook's first sheet with excelize's
// row iterator, which decodes one row at a time.
type xlsxSource struct {
	f    *excelize.File
	rows *excelize.Rows
	line int
	// tmp is this read's own directory for excelize's temporary files,
	// removed whole at the end: excelize loses track of those it made
	// when opening a broken file fails.
	tmp string
}

var errUnreadable = fileProblem("is not a readable .xlsx workbook")

// openXLSX checks the package's parts against the limits before excelize
// unpacks anything, then opens the first sheet.
func openXLSX(data []byte, maxRows int) (_ *xlsxSource, err error) {
	if err := checkPackage(data, maxRows); err != nil {
		return nil, err
	}
	s := &xlsxSource{}
	if s.tmp, err = os.MkdirTemp("", "bangfu-sheet-"); err != nil {
		return nil, err
	}
	defer func() {
		if recover() != nil {
			err = errUnreadable // see unreadableOnPanic
		}
		if err != nil {
			s.close()
		}
	}()
	s.f, err = excelize.OpenReader(bytes.NewReader(data),
		excelize.Options{UnzipSizeLimit: MaxUnpacked, UnzipXMLSizeLimit: maxInMemory, TmpDir: s.tmp})
	if err != nil {
		return nil, errUnreadable
	}
	sheets := s.f.GetSheetList()
	if len(sheets) == 0 {
		return nil, fileProblem("has no sheets")
	}
	if s.rows, err = s.f.Rows(sheets[0]); err != nil {
		return nil, fileProblem("has a first sheet that cannot be read")
	}
	return s, nil
}

func (s *xlsxSource) next() (_ []string, _ int, err error) {
	defer unreadableOnPanic(&err)
	if !s.rows.Next() {
		if s.rows.Error() != nil {
			return nil, 0, fileProblem(fmt.Sprintf("cannot be read after row %d", s.line))
		}
		return nil, 0, errEOF
	}
	s.line++
	cells, err := s.rows.Columns()
	if err != nil {
		return nil, 0, fileProblem(fmt.Sprintf("has a row %d that cannot be read", s.line))
	}
	return cells, s.line, nil
}

// unreadableOnPanic turns a panic of excelize, which parses untrusted XML,
// into the answer that the file is unreadable: a bad file is not a failure
// of the service.
func unreadableOnPanic(err *error) {
	if recover() != nil {
		*err = errUnreadable
	}
}

func (s *xlsxSource) close() {
	if s.rows != nil {
		_ = s.rows.Close()
	}
	if s.f != nil {
		_ = s.f.Close()
	}
	_ = os.RemoveAll(s.tmp)
}

// checkPackage refuses a workbook whose parts would unpack to more than
// the limits allow. The sizes are those the zip directory declares; the zip
// reader refuses to unpack more than declared.
func checkPackage(data []byte, maxRows int) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return errUnreadable
	}
	if len(zr.File) > maxParts {
		return fileProblem(fmt.Sprintf("has %d parts; a workbook has far fewer", len(zr.File)))
	}
	tooBig := fileProblem(fmt.Sprintf("unpacks to more than %s, far more than %d rows need; import at most %d rows at a time",
		size(MaxUnpacked), maxRows, maxRows))
	var total uint64
	elements := 0
	for _, zf := range zr.File {
		n := zf.UncompressedSize64
		if n > MaxUnpacked {
			return tooBig
		}
		if total += n; total > MaxUnpacked {
			return tooBig
		}
		name := strings.ToLower(strings.ReplaceAll(zf.Name, `\`, "/"))
		switch {
		case strings.HasPrefix(name, "xl/worksheets/sheet"):
		case name == "xl/sharedstrings.xml":
			if err := checkSharedStrings(zf); err != nil {
				return err
			}
		case strings.HasSuffix(name, ".xml") || strings.HasSuffix(name, ".rels"):
			n, err := countIn(zf, "")
			if err != nil {
				return errUnreadable
			}
			if elements += n; elements > maxElements {
				return fileProblem(fmt.Sprintf("has more than %d XML elements besides its sheets; save the rows in a new workbook", maxElements))
			}
		}
	}
	return nil
}

// checkSharedStrings counts the entries (<si> elements) of the shared-string
// table without parsing it.
func checkSharedStrings(zf *zip.File) error {
	n, err := countIn(zf, "si")
	if err != nil {
		return errUnreadable
	}
	if n > MaxSharedStrings {
		return fileProblem(fmt.Sprintf("has %d shared strings; at most %d are read", n, MaxSharedStrings))
	}
	return nil
}

// countIn counts the elements named local (any when "") in a part.
func countIn(zf *zip.File, local string) (int, error) {
	rc, err := zf.Open()
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	return countElements(bufio.NewReader(rc), local)
}

// countElements counts the start tags (<name …>, <name/>, <prefix:name>)
// of the elements named local, or of all elements when local is "", in
// XML text, without parsing it. Tags in comments count too, which can only
// overcount.
func countElements(r io.ByteReader, local string) (int, error) {
	var name []byte
	count := 0
	inTag := false
	for {
		b, err := r.ReadByte()
		if err == io.EOF {
			return count, nil
		} else if err != nil {
			return count, err
		}
		switch {
		case b == '<':
			inTag, name = true, name[:0]
		case !inTag:
		case b == ' ' || b == '>' || b == '/' || b == '\t' || b == '\r' || b == '\n':
			if len(name) > 0 && name[0] != '?' && name[0] != '!' {
				if i := bytes.LastIndexByte(name, ':'); local == "" || string(name[i+1:]) == local {
					count++
				}
			}
			inTag = false
		case len(name) < 64:
			name = append(name, b)
		}
	}
}
