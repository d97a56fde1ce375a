package sealed_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu/internal/sealed"
)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func TestSealOpen(t *testing.T) {
	t.Parallel()
	box, err := sealed.New(key(1))
	require.NoError(t, err)
	c1 := box.Seal("id_number", "11010519491231002X")
	c2 := box.Seal("id_number", "11010519491231002X")
	require.NotEqual(t, c1, c2, "each seal uses a fresh nonce")
	require.NotContains(t, string(c1), "1101051949")
	got, err := box.Open("id_number", c1)
	require.NoError(t, err)
	require.Equal(t, "11010519491231002X", got)

	_, err = box.Open("accommodations", c1)
	require.Error(t, err, "a value cannot be moved to another column")
	c1[len(c1)-1] ^= 1
	_, err = box.Open("id_number", c1)
	require.Error(t, err, "tampering is detected")
}

func TestRotation(t *testing.T) {
	t.Parallel()
	old, err := sealed.New(key(1))
	require.NoError(t, err)
	c := old.Seal("id_number", "v")
	h := old.Hash("id_number", "v")

	rotated, err := sealed.New(key(2), key(1))
	require.NoError(t, err)
	got, err := rotated.Open("id_number", c)
	require.NoError(t, err)
	require.Equal(t, "v", got)
	require.Contains(t, rotated.Hashes("id_number", "v"), h, "lookups still find values hashed under the old key")
	require.NotEqual(t, h, rotated.Hash("id_number", "v"))

	stranger, err := sealed.New(key(3))
	require.NoError(t, err)
	_, err = stranger.Open("id_number", c)
	require.ErrorIs(t, err, sealed.ErrUnknownKey)
}
