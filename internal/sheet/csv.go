package sheet

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

// csvSource reads CSV text: UTF-8 (a BOM is dropped) when the whole file is
// valid UTF-8, else GB18030 (which covers GBK and GB2312), as Excel in
// China saves it. The text is decoded as it is read.
type csvSource struct {
	r       *csv.Reader
	gb18030 bool
}

var utf8BOM = []byte("\xef\xbb\xbf")

func openCSV(data []byte) *csvSource {
	var text io.Reader
	s := &csvSource{}
	if utf8.Valid(data) {
		text = bytes.NewReader(bytes.TrimPrefix(data, utf8BOM))
	} else {
		s.gb18030 = true
		text = transform.NewReader(bytes.NewReader(data), simplifiedchinese.GB18030.NewDecoder())
	}
	s.r = csv.NewReader(&fieldLimiter{r: text})
	s.r.FieldsPerRecord = -1
	s.r.ReuseRecord = true
	return s
}

func (s *csvSource) next() ([]string, int, error) {
	rec, err := s.r.Read()
	var pe *csv.ParseError
	var wide errTooWide
	switch {
	case errors.Is(err, io.EOF):
		return nil, 0, errEOF
	case errors.As(err, &pe):
		return nil, 0, fileProblem(fmt.Sprintf("is not valid CSV at line %d: %v", pe.Line, pe.Err))
	case errors.As(err, &wide):
		return nil, 0, fileProblem(fmt.Sprintf("has a row with more than %d columns", MaxColumns))
	case err != nil:
		// Only the in-memory reader and decoder are read: no other error.
		return nil, 0, fileProblem("cannot be read as text")
	}
	if s.gb18030 && slices.ContainsFunc(rec, func(f string) bool { return strings.ContainsRune(f, utf8.RuneError) }) {
		line, _ := s.r.FieldPos(0)
		return nil, 0, fileProblem(fmt.Sprintf("is neither UTF-8 nor GB18030 text (line %d)", line))
	}
	line, _ := s.r.FieldPos(0)
	return rec, line, nil
}

func (s *csvSource) close() {}

// fieldLimiter passes CSV text through, failing with errTooWide once a
// record has more than MaxColumns fields: csv.Reader keeps a whole record
// in memory, with bookkeeping per field, so a line of commas would cost far
// more memory than its bytes. It follows the quoting as csv.Reader does
// (a quote toggles quoted text; "" inside quotes toggles twice); a bare
// quote, which it may misread, is an error for csv.Reader anyway.
type fieldLimiter struct {
	r      io.Reader
	quoted bool
	fields int
	err    error
}

type errTooWide struct{}

func (errTooWide) Error() string { return "sheet: a CSV record has too many fields" }

func (l *fieldLimiter) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	n, err := l.r.Read(p)
	for i, b := range p[:n] {
		switch {
		case b == '"':
			l.quoted = !l.quoted
		case l.quoted:
		case b == ',':
			if l.fields++; l.fields >= MaxColumns {
				// Pass the text before the offending comma: the records
				// before it are read normally.
				l.err = errTooWide{}
				return i, nil
			}
		case b == '\n':
			l.fields = 0
		}
	}
	return n, err
}
