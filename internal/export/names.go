package export

import (
	"encoding/json"
	"io/fs"
	"sync"

	"github.com/bangfu/bangfu/web"
)

// Exports speak Chinese, as the files schools hand in do: codes are shown
// by their names in the pages' zh-CN catalogue (web/messages/zh-CN), the
// one place those names are written.

var (
	namesOnce sync.Once
	names     map[string]string
)

// Name returns the Chinese name of code of kind ("dest", "10" → 签就业协议形式就业;
// kinds as in the catalogue: category, measure, measure_status, dest,
// dest_status, edu, status, ledger.kind, channel, visibility, role…), or
// code itself when the catalogue has none.
func Name(kind, code string) string {
	namesOnce.Do(loadNames)
	if v, ok := names[kind+"."+code]; ok {
		return v
	}
	return code
}

func loadNames() {
	names = map[string]string{}
	files, _ := fs.Glob(web.Messages, "messages/zh-CN/*.json")
	for _, f := range files {
		b, err := fs.ReadFile(web.Messages, f)
		if err != nil {
			continue
		}
		var m map[string]string
		if json.Unmarshal(b, &m) == nil {
			for k, v := range m {
				names[k] = v
			}
		}
	}
}
