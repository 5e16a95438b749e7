package refengine

// frameScene is everything needed to shade one frame, precomputed once per
// frame so the per-pixel work is small.
type frameScene struct {
	aspect   float32
	tau      float32 // background animation time (0 when still)
	backdrop backdropKind
	skyTop   rgb
	skyLow   rgb
	ground   rgb
	ground2  rgb
	horizon  float32
	bgLight  rgb
	objLight rgb
	fog      float32
	fogCol   rgb
	style    styleFlag
	night    bool
	texPhase float32
	texFreq  float32
	bgKey    uint64
	objs     []placed
	glowCol  rgb
	sky      int     // skyPlain, skySun, skyMoon or skyClouds
	lightX   float32 // centre and radius of the sky's sun or moon
	lightY   float32
	lightR   float32
}

// timeLook holds the sky colours and light of a time of day.
type timeLook struct {
	top, low rgb
	bg, obj  rgb
}

var timeLooks = [numTimes]timeLook{
	timeDay:    {rgb{0.22, 0.48, 0.90}, rgb{0.66, 0.82, 0.98}, rgb{1, 1, 1}, rgb{1, 1, 1}},
	timeNight:  {rgb{0.01, 0.02, 0.07}, rgb{0.05, 0.08, 0.20}, rgb{0.26, 0.30, 0.42}, rgb{0.62, 0.62, 0.70}},
	timeSunset: {rgb{0.25, 0.14, 0.45}, rgb{0.98, 0.52, 0.22}, rgb{0.92, 0.72, 0.62}, rgb{1.0, 0.88, 0.78}},
	timeDawn:   {rgb{0.42, 0.52, 0.85}, rgb{0.98, 0.74, 0.64}, rgb{1.0, 0.92, 0.88}, rgb{1.0, 0.95, 0.92}},
}

// backdropLook holds the ground colours and horizon of a backdrop.
type backdropLook struct {
	ground, ground2 rgb
	horizon         float32
}

var backdropLooks = [numBackdrops]backdropLook{
	backdropPlain:    {rgb{0.40, 0.55, 0.34}, rgb{0.30, 0.44, 0.26}, 0.72},
	backdropSky:      {rgb{0.66, 0.82, 0.98}, rgb{0.66, 0.82, 0.98}, 2},
	backdropOcean:    {rgb{0.10, 0.38, 0.66}, rgb{0.02, 0.12, 0.34}, 0.58},
	backdropForest:   {rgb{0.14, 0.36, 0.12}, rgb{0.04, 0.22, 0.07}, 0.66},
	backdropDesert:   {rgb{0.88, 0.72, 0.45}, rgb{0.74, 0.56, 0.32}, 0.62},
	backdropCity:     {rgb{0.26, 0.26, 0.28}, rgb{0.30, 0.32, 0.38}, 0.76},
	backdropSpace:    {rgb{0.01, 0.00, 0.04}, rgb{0.10, 0.03, 0.16}, 2},
	backdropSnow:     {rgb{0.93, 0.95, 0.99}, rgb{0.74, 0.80, 0.92}, 0.64},
	backdropField:    {rgb{0.32, 0.64, 0.20}, rgb{0.24, 0.52, 0.14}, 0.66},
	backdropMountain: {rgb{0.30, 0.46, 0.26}, rgb{0.36, 0.39, 0.48}, 0.72},
}

func scale(c rgb, k float32) rgb {
	return rgb{float32(c[0] * k), float32(c[1] * k), float32(c[2] * k)}
}

func mul(a, b rgb) rgb {
	return rgb{float32(a[0] * b[0]), float32(a[1] * b[1]), float32(a[2] * b[2])}
}

func mixRGB(a, b rgb, t float32) rgb {
	return rgb{lerp(a[0], b[0], t), lerp(a[1], b[1], t), lerp(a[2], b[2], t)}
}

// rotateHue blends a colour toward its channel rotation: a cheap,
// deterministic hue shift used for unknown words.
func rotateHue(c rgb, t float32) rgb {
	return mixRGB(c, rgb{c[2], c[0], c[1]}, t)
}

// newFrameScene precomputes frame f of a generation.
func newFrameScene(sc *scene, inst []instance, seed uint64, aspect float32, f, fps int) frameScene {
	tau := float32(f) / float32(fps)
	look := timeLooks[sc.time]
	bl := backdropLooks[sc.backdrop]
	fs := frameScene{aspect: aspect, tau: tau, backdrop: sc.backdrop, style: sc.style, night: sc.time == timeNight,
		skyTop: look.top, skyLow: look.low, ground: bl.ground, ground2: bl.ground2, horizon: bl.horizon,
		bgLight: look.bg, objLight: look.obj, texFreq: 1, bgKey: hash3(seed, 0xb9, 0)}
	if sc.still {
		fs.tau = 0
	}
	switch sc.backdrop {
	case backdropSpace:
		fs.skyTop, fs.skyLow = bl.ground, bl.ground2
		fs.bgLight = rgb{1, 1, 1}
	case backdropSnow:
		fs.skyLow = mixRGB(fs.skyLow, rgb{0.9, 0.92, 0.96}, 0.5)
	}
	if sc.tintSet {
		switch sc.backdrop {
		case backdropPlain, backdropSky, backdropSpace:
			fs.skyTop = mixRGB(scale(sc.tint, 0.55), fs.skyTop, 0.15)
			fs.skyLow = mixRGB(sc.tint, rgb{1, 1, 1}, 0.3)
		default:
			fs.ground = mixRGB(fs.ground, sc.tint, 0.7)
			fs.ground2 = mixRGB(fs.ground2, scale(sc.tint, 0.6), 0.7)
		}
	}
	if sc.unknown != 0 {
		t := float32(unit(hash3(sc.unknown, 2, 0)) * 0.35)
		fs.skyTop, fs.skyLow = rotateHue(fs.skyTop, t), rotateHue(fs.skyLow, t)
		fs.ground, fs.ground2 = rotateHue(fs.ground, t), rotateHue(fs.ground2, t)
		fs.texPhase = unit(hash3(sc.unknown, 3, 0))
		fs.texFreq = 0.7 + float32(unit(hash3(sc.unknown, 4, 0))*0.8)
	}
	fs.applyStyle()
	fs.chooseSky(sc, aspect)
	fs.objs = make([]placed, len(inst))
	for i := range inst {
		fs.objs[i] = inst[i].place(tau, aspect) // still objects have motionStill
	}
	fs.glowCol = rgb{1, 0.85, 0.5}
	for _, o := range fs.objs {
		if fs.style&styleNeon != 0 {
			fs.glowCol = o.colour
			break
		}
		if o.shape == shapeMoon {
			fs.glowCol = rgb{0.6, 0.7, 1}
		}
	}
	return fs
}

// chooseSky picks what lights the sky: a low sun at sunset and dawn, a moon
// at night, clouds by day; none in space, none when the prompt brings its
// own sun or moon, no clouds in a sky the prompt colours.
func (fs *frameScene) chooseSky(sc *scene, aspect float32) {
	has := func(k shapeKind) bool {
		for _, o := range sc.objects {
			if o.shape == k {
				return true
			}
		}
		return false
	}
	if sc.backdrop == backdropSpace {
		return
	}
	fs.lightX = float32(aspect*0.78) - float32(fs.texPhase*0.3)
	switch sc.time {
	case timeSunset, timeDawn:
		if !has(shapeSun) {
			fs.sky, fs.lightY, fs.lightR = skySun, min(fs.horizon, 1)-0.02, 0.11
		}
	case timeNight:
		if !has(shapeMoon) {
			fs.sky, fs.lightY, fs.lightR = skyMoon, 0.14, 0.05
		}
	case timeDay:
		tinted := sc.tintSet && (sc.backdrop == backdropPlain || sc.backdrop == backdropSky)
		if fs.style&(styleNeon|styleRainy|styleFoggy) == 0 && !tinted {
			fs.sky = skyClouds
		}
	}
}

func (fs *frameScene) applyStyle() {
	s := fs.style
	if s&styleDark != 0 {
		fs.bgLight, fs.objLight = scale(fs.bgLight, 0.5), scale(fs.objLight, 0.65)
	}
	if s&styleBright != 0 {
		fs.bgLight, fs.objLight = scale(fs.bgLight, 1.25), scale(fs.objLight, 1.15)
	}
	if s&styleNeon != 0 {
		fs.bgLight = scale(fs.bgLight, 0.35)
		fs.objLight = scale(fs.objLight, 1.3)
	}
	if s&styleRainy != 0 {
		fs.bgLight = mul(fs.bgLight, rgb{0.62, 0.64, 0.68})
		fs.fog, fs.fogCol = 0.2, rgb{0.45, 0.47, 0.5}
	}
	if s&styleFoggy != 0 {
		fs.fog, fs.fogCol = 0.5, mul(rgb{0.72, 0.74, 0.77}, fs.bgLight)
	}
}

// shade returns the colour and glow at (x, y) for a pixel of size px (all in
// frame heights). Glow is computed only when withGlow is set.
func (fs *frameScene) shade(x, y, px, invPx float32, withGlow bool) (rgb, float32) {
	c := mul(fs.background(x, y, px), fs.bgLight)
	if fs.fog > 0 {
		c = mixRGB(c, fs.fogCol, fs.fog)
	}
	var glow float32
	for i := range fs.objs {
		o := &fs.objs[i]
		dx, dy := x-o.cx, y-o.cy
		if withGlow {
			glow = max(glow, fs.glowAt(o, dx, dy))
		}
		if abs32(dx) > o.extent+px || abs32(dy) > o.extent+px {
			continue
		}
		d, oc := o.shade(dx, dy)
		cov := cover(d, invPx)
		if cov <= 0 {
			continue
		}
		oc = mul(oc, fs.objLight)
		if w := float32(rimWidth * o.r); d > -w {
			oc = mixRGB(oc, rim(c, oc), float32(rimStrength*(1+d/w)))
		}
		if fs.style&styleNeon != 0 {
			oc = saturate(oc, 1.6)
		}
		if fs.fog > 0 {
			oc = mixRGB(oc, fs.fogCol, float32(0.4*fs.fog))
		}
		c = mixRGB(c, oc, cov)
	}
	if fs.style&stylePastel != 0 {
		c = mixRGB(c, rgb{1, 0.97, 0.97}, 0.35)
	}
	if fs.style&styleMono != 0 {
		l := luma(c)
		c = rgb{l, l, l}
	}
	return c, glow
}

// The rim is an outline inside every object that contrasts with the
// background, so a black bird stays visible at night.
const (
	rimWidth    = 0.08 // in object radii
	rimStrength = 0.7
)

// rim returns the outline colour of an object of colour oc over bg.
func rim(bg, oc rgb) rgb {
	if luma(bg) < 0.35 {
		return rgb{0.75, 0.8, 0.95}
	}
	return scale(oc, 0.35)
}

func luma(c rgb) float32 {
	return float32(0.299*c[0]) + float32(0.587*c[1]) + float32(0.114*c[2])
}

func saturate(c rgb, k float32) rgb {
	l := luma(c)
	return rgb{l + float32((c[0]-l)*k), l + float32((c[1]-l)*k), l + float32((c[2]-l)*k)}
}

// glowAt is the soft light an object casts around it (sun and moon always,
// every object in neon style).
func (fs *frameScene) glowAt(o *placed, dx, dy float32) float32 {
	reach := float32(0)
	switch {
	case fs.style&styleNeon != 0:
		reach = 2.2
	case o.shape == shapeSun:
		reach = 3
	case o.shape == shapeMoon && fs.night:
		reach = 2.5
	default:
		return 0
	}
	d := float32(reach * o.r)
	if abs32(dx) > d || abs32(dy) > d {
		return 0
	}
	g := clamp(1-hypot(dx, dy)/d, 0, 1)
	return float32(float32(g*g) * 0.6)
}
