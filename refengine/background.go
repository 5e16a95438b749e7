package refengine

// background returns the unlit colour of the backdrop at (x, y).
func (fs *frameScene) background(x, y, px float32) rgb {
	h := fs.horizon
	t := clamp(y/min(h, 1), 0, 1)
	c := mixRGB(fs.skyTop, fs.skyLow, t)
	starry := fs.night || fs.backdrop == backdropSpace
	if y < h {
		if starry {
			if s := fs.dots(x, y, 40, 7, 0.18, 0); s > 0 {
				c = mixRGB(c, rgb{3, 3, 3.2}, s)
			}
		}
		c = fs.skyLights(c, x, y, px)
		switch fs.backdrop {
		case backdropForest:
			c = fs.treeLine(c, x, y)
		case backdropCity:
			c = fs.skyline(c, x, y)
		case backdropMountain:
			c = fs.mountains(c, x, y)
		case backdropSpace:
			n := float32(0.5 + float32(0.5*sinTurns(float32(x*1.3)+float32(0.4*sinTurns(float32(y*1.7)+fs.texPhase)))))
			c = rgb{c[0] + float32(n*0.16), c[1] + float32(n*0.04), c[2] + float32(n*0.22)}
		}
	} else {
		c = fs.ground3(x, y)
	}
	switch {
	case fs.backdrop == backdropSnow:
		if s := fs.dots(x, y-float32(0.08*fs.tau), 26, 3, 0.16, 1); s > 0 {
			c = mixRGB(c, rgb{1.4, 1.4, 1.45}, s)
		}
	case fs.style&styleRainy != 0:
		gy := float32((y - float32(1.2*fs.tau)) * 7)
		gx := float32(x * 60)
		hh := cellHash(fs.bgKey^rainSalt, cellIndex(gx), cellIndex(gy))
		if hh&3 == 0 && abs32(fract(gx)-0.5) < 0.12 && fract(gy) < 0.5 {
			c = mixRGB(c, rgb{0.8, 0.82, 0.88}, 0.5)
		}
	}
	return c
}

// ground3 shades the ground or water below the horizon.
func (fs *frameScene) ground3(x, y float32) rgb {
	h := fs.horizon
	d := clamp((y-h)/(1-h), 0, 1)
	base := mixRGB(fs.ground, fs.ground2, d)
	switch fs.backdrop {
	case backdropOcean:
		bend := float32(0.35 * sinTurns(float32(float32(x*1.5)*fs.texFreq)+fs.texPhase+float32(0.1*fs.tau)))
		v := sinTurns(2.5/(d+0.06) + float32(0.6*fs.tau) + bend)
		base = scale(base, 0.84+float32(0.16*v))
		if v > 0.55 {
			f := float32((v - 0.55) * 1.6)
			base = mixRGB(base, rgb{0.85, 0.92, 1}, float32(f*(1-float32(0.6*d))))
		}
	case backdropDesert:
		r := 0.5 + float32(0.5*sinTurns(float32(float32(x*2)*fs.texFreq)+float32((y-h)*18)+fs.texPhase))
		base = mixRGB(fs.ground, fs.ground2, float32(r*0.6)+float32(d*0.3))
	case backdropField, backdropForest, backdropPlain:
		r := 0.5 + float32(0.5*sinTurns(float32(float32(x*40)*fs.texFreq)+float32(y*9)))
		base = scale(base, 0.9+float32(0.14*r))
	case backdropCity:
		mid := h + float32((1-h)*0.5)
		if abs32(y-mid) < 0.008 && fract(float32(x*5)+fs.texPhase) < 0.5 {
			base = rgb{0.9, 0.82, 0.4}
		}
	case backdropSnow:
		r := 0.5 + float32(0.5*sinTurns(float32(float32(x*1.1)*fs.texFreq)+float32(y*3)+fs.texPhase))
		base = mixRGB(fs.ground, fs.ground2, float32(r*0.35)+float32(d*0.2))
	}
	return base
}

// dots draws a sparse field of round dots (stars, snowflakes): one candidate
// per grid cell, kept when its hash has the low mask bits clear.
func (fs *frameScene) dots(x, y, cells float32, mask uint64, radius float32, salt uint64) float32 {
	gx, gy := float32(x*cells), float32(y*cells)
	ix, iy := cellIndex(gx), cellIndex(gy)
	hh := cellHash(fs.bgKey^salt, ix, iy)
	if hh&mask != 0 {
		return 0
	}
	sx := float32(ix) + 0.25 + float32(0.5*unit(hh))
	sy := float32(iy) + 0.25 + float32(0.5*unit(mix64(hh)))
	return clamp(1-hypot(gx-sx, gy-sy)/radius, 0, 1)
}

// treeLine draws pointed tree tops above the horizon.
func (fs *frameScene) treeLine(c rgb, x, y float32) rgb {
	g := float32(float32(x*11)*fs.texFreq) + float32(fs.texPhase*11)
	cell := cellIndex(g)
	hgt := 0.07 + float32(0.12*unit(cellHash(fs.bgKey, cell, 7)))
	top := fs.horizon - float32(hgt*(1-abs32(float32(2*fract(g))-1)))
	if y > top {
		return scale(fs.ground2, 0.75)
	}
	return c
}

// skyline draws buildings with windows above the horizon.
func (fs *frameScene) skyline(c rgb, x, y float32) rgb {
	g := float32(float32(x*7)*fs.texFreq) + float32(fs.texPhase*7)
	cell := cellIndex(g)
	hh := cellHash(fs.bgKey, cell, 11)
	top := fs.horizon - 0.12 - float32(0.3*unit(hh))
	if y <= top || fract(g) > 0.92 {
		return c
	}
	b := scale(fs.ground2, 0.75+float32(0.35*unit(mix64(hh))))
	wx, wy := float32(x*70), float32(y*55)
	if fract(wx) < 0.55 && fract(wy) < 0.5 && cellHash(hh, cellIndex(wx), cellIndex(wy))&3 != 0 {
		if fs.night {
			return rgb{2.6, 2.2, 1.2}
		}
		return rgb{0.55, 0.68, 0.82}
	}
	return b
}

// mountains draws peaks with snow caps above the horizon.
func (fs *frameScene) mountains(c rgb, x, y float32) rgb {
	g := float32(float32(x*1.6)*fs.texFreq) + fs.texPhase
	tri := 1 - abs32(float32(2*fract(g))-1)
	g2 := float32(float32(x*4.1)*fs.texFreq) + float32(fs.texPhase*3)
	tri2 := 1 - abs32(float32(2*fract(g2))-1)
	top := fs.horizon - float32(0.3*tri) - float32(0.06*tri2)
	switch {
	case y <= top:
		return c
	case y < top+0.035 && tri > 0.55:
		return rgb{0.92, 0.93, 0.96}
	}
	return fs.ground2
}

// Kinds of light in the sky behind the scene.
const (
	skyPlain = iota
	skySun   // low sun at sunset and dawn
	skyMoon  // moon at night
	skyClouds
)

// skyLights draws the sun low at sunset and dawn, a moon at night and soft
// drifting clouds by day, behind the backdrop's silhouettes.
func (fs *frameScene) skyLights(c rgb, x, y, px float32) rgb {
	switch fs.sky {
	case skySun, skyMoon:
		d := hypot(x-fs.lightX, y-fs.lightY)
		r := fs.lightR
		if d > float32(3*r) {
			return c
		}
		col := rgb{1, 0.92, 0.7}
		if fs.sky == skyMoon {
			col = rgb{3.2, 2.9, 2.2} // the night light dims and blues it
		} else {
			halo := clamp(1-d/float32(3*r), 0, 1)
			c = mixRGB(c, rgb{1, 0.78, 0.42}, float32(float32(halo*halo)*0.7))
		}
		return mixRGB(c, col, clamp(0.5-(d-r)/px, 0, 1))
	case skyClouds:
		fade := clamp(float32((float32(min(fs.horizon, 1)*0.8)-y)*5), 0, 1)
		if fade == 0 {
			return c
		}
		u := float32(x*2.4) + float32(0.03*fs.tau) + fs.texPhase
		v := float32(y * 6)
		n := fs.valueNoise(u, v)
		if n < 0.35 { // too low for the second octave to make a cloud
			return c
		}
		n = float32(0.65*n) + float32(0.35*fs.valueNoise(float32(u*2.1)+5.3, float32(v*2.1)+1.7))
		k := float32(clamp(float32((n-0.58)*4), 0, 1) * fade)
		return mixRGB(c, rgb{1, 1, 1}, float32(k*0.8))
	}
	return c
}

// valueNoise is smooth lattice noise in [0, 1).
func (fs *frameScene) valueNoise(x, y float32) float32 {
	ix, iy := cellIndex(x), cellIndex(y)
	fx, fy := smooth01(x-float32(ix)), smooth01(y-float32(iy))
	at := func(i, j int32) float32 { return unit(cellHash(fs.bgKey^cloudSalt, i, j)) }
	a := lerp(at(ix, iy), at(ix+1, iy), fx)
	b := lerp(at(ix, iy+1), at(ix+1, iy+1), fx)
	return lerp(a, b, fy)
}

const (
	cloudSalt = 0xc10d
	rainSalt  = 0x7a1
)
