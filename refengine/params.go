package refengine

import (
	"crypto/sha256"
	"encoding/binary"
	"math"

	"github.com/fractal-grid/fractal"
)

// paramsDigest hashes a canonical encoding of every parameter of the model:
// the vocabulary, colour and shape tables, looks and sampling constants. A
// change to any of them changes the profile digest.
func paramsDigest(version string, jitter float32) fractal.Digest {
	var b []byte
	u32 := func(v uint32) { b = binary.BigEndian.AppendUint32(b, v) }
	f32 := func(vs ...float32) {
		for _, v := range vs {
			u32(math.Float32bits(v))
		}
	}
	str := func(s string) { u32(uint32(len(s))); b = append(b, s...) }
	str("fractal-ref/params/v1")
	str(ProfileID)
	str(version)
	u32(uint32(len(vocabulary)))
	for _, e := range vocabulary {
		str(e.word)
		u32(uint32(e.class)<<8 | uint32(e.value))
	}
	for _, c := range palette {
		f32(c[:]...)
	}
	for _, s := range shapes {
		u32(uint32(s.colour))
		u32(uint32(s.motion))
		f32(s.size, s.rest)
	}
	f32(shapeExtent[:]...)
	f32(sizeScale[:]...)
	for _, l := range timeLooks {
		f32(l.top[:]...)
		f32(l.low[:]...)
		f32(l.bg[:]...)
		f32(l.obj[:]...)
	}
	for _, l := range backdropLooks {
		f32(l.ground[:]...)
		f32(l.ground2[:]...)
		f32(l.horizon)
	}
	u32(latentFactor)
	u32(channels)
	f32(noiseSigma, denoiseBlend, keepRatio, freshNoise, initialMean, jitter)
	f32(upW[:]...)
	u32(noiseStream)
	u32(jitterStream)
	u32(maxObjects)
	u32(maxInstances)
	f32(rimWidth, rimStrength)
	u32(cloudSalt)
	u32(rainSalt)
	return fractal.Digest(sha256.Sum256(b))
}
