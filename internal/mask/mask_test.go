package mask_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu/internal/mask"
)

func TestMask(t *testing.T) {
	t.Parallel()
	require.Equal(t, "欧***", mask.Name("欧阳小明"))
	require.Equal(t, "李*", mask.Name("李明"))
	require.Equal(t, "王", mask.Name("王"))
	require.Equal(t, "*******5678", mask.Tail("13812345678", 4))
	require.Equal(t, "***", mask.Tail("123", 4))
}
