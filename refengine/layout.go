package refengine

// instance is one drawn copy of an object, placed for a given seed and
// aspect ratio. Positions are in frame heights: y in [0,1] top to bottom,
// x in [0, aspect].
type instance struct {
	shape  shapeKind
	colour rgb
	r      float32
	x0, y0 float32
	motion motionKind
	dir    int
	phase  float32
	speed  float32
}

// placed is an instance at one moment.
type placed struct {
	shape    shapeKind
	colour   rgb
	cx, cy   float32
	r        float32
	cos, sin float32 // rotation
	flap     float32 // wing beat, -1..1
	flip     bool    // facing left
	spin     bool
	extent   float32 // half-size of the bounding box of the shape
}

const maxInstances = 12

// layout places every object of the scene for a seed.
func layout(sc *scene, seed uint64, aspect float32) []instance {
	total := 0
	for _, o := range sc.objects {
		total += o.count
	}
	total = min(total, maxInstances)
	crowd := float32(1)
	if total > 1 {
		crowd = min(1, 1.3/sqrt32(float32(total)))
	}
	shift := float32(0)
	if sc.unknown != 0 {
		shift = float32((unit(hash3(sc.unknown, 1, 0)) - 0.5) * 0.18)
	}
	out := make([]instance, 0, total)
	slot := 0
	for oi, o := range sc.objects {
		info := shapes[o.shape]
		for k := 0; k < o.count && slot < total; k++ {
			h := hash3(seed, uint64(oi), uint64(k))
			in := instance{shape: o.shape, colour: o.colour, motion: o.motion, dir: o.dir}
			if in.motion == motionDefault {
				in.motion = info.motion
			}
			in.r = float32(float32(info.size*o.size) * crowd)
			jx := float32((unit(h) - 0.5) * 0.35)
			in.x0 = float32(aspect*(float32(slot)+0.5+jx)/float32(total)) + shift
			jy := float32((unit(mix64(h)) - 0.5) * 0.08)
			if o.count > 1 {
				jy += float32(float32(k%2)*0.14) - 0.07
			}
			in.y0 = rest(sc, o.shape) + jy
			in.phase = unit(mix64(h ^ 0x5bd1e995))
			in.speed = 0.85 + float32(unit(mix64(h^0x1b873593))*0.3)
			out = append(out, in)
			slot++
		}
	}
	return out
}

// rest returns the resting height of a shape over a backdrop.
func rest(sc *scene, k shapeKind) float32 {
	y := shapes[k].rest
	switch {
	case k == shapeFish && sc.backdrop != backdropOcean:
		y = 0.45
	case k == shapeBoat && sc.backdrop == backdropOcean:
		y = 0.56
	case sc.backdrop == backdropSpace && y > 0.6:
		y = 0.5
	}
	return y
}

// wrap maps v into [lo, lo+span) periodically.
func wrap(v, lo, span float32) float32 {
	return lo + float32(span*fract((v-lo)/span))
}

// place returns the instance at time tau (seconds).
func (in *instance) place(tau, aspect float32) placed {
	p := placed{shape: in.shape, colour: in.colour, cx: in.x0, cy: in.y0, r: in.r, cos: 1}
	u := float32(tau * in.speed)
	sign := float32(1)
	if in.dir == dirLeft || in.dir == dirDown {
		sign = -1
	}
	switch in.motion {
	case motionBounce:
		ground := in.y0 + 0.17
		p.cy = ground - float32(0.34*abs32(sinTurns(float32(0.5*u)+float32(0.5*in.phase))))
	case motionSpin:
		a := float32(float32(sign*0.35)*u) + in.phase
		p.cos, p.sin, p.spin = cosTurns(a), sinTurns(a), true
		p.cy += float32(0.015 * sinTurns(float32(0.3*u)+in.phase))
	case motionMove, motionFly:
		v := float32(0.24)
		if in.shape == shapeCloud {
			v = 0.06
		}
		if in.motion == motionFly {
			v = 0.3
			p.cy += float32(0.03 * sinTurns(float32(0.7*u)+in.phase))
		}
		p.cx = wrap(in.x0+float32(float32(sign*v)*u), float32(-1.5*in.r), aspect+float32(3*in.r))
		p.flip = sign < 0
	case motionRise, motionFall:
		s := float32(-0.16)
		if in.motion == motionFall {
			s = 0.16
		}
		p.cy = wrap(in.y0+float32(s*u), float32(-1.5*in.r), 1+float32(3*in.r))
		p.cx += float32(0.02 * sinTurns(float32(0.5*u)+in.phase))
	case motionOrbit:
		a := float32(float32(sign*0.3)*u) + in.phase
		p.cx += float32(0.18 * cosTurns(a))
		p.cy += float32(0.12 * sinTurns(a))
	case motionFloat:
		p.cy += float32(0.03 * sinTurns(float32(0.4*u)+in.phase))
	case motionPulse:
		p.r = float32(p.r * (1 + float32(0.2*sinTurns(u+in.phase))))
	case motionShake:
		p.cx += float32(0.025 * sinTurns(float32(5*u)+in.phase))
	}
	if in.shape == shapeBird {
		p.flap = sinTurns(float32(2.5*u) + in.phase)
	}
	p.extent = float32(p.r * shapeExtent[in.shape])
	return p
}

// shapeExtent is each shape's bounding half-size in radii.
var shapeExtent = [numShapes]float32{
	shapeBall: 1.05, shapeStar: 1.1, shapeCube: 1.2, shapeBird: 1.15, shapeFish: 1.45,
	shapeTree: 1.05, shapeCar: 1.1, shapeMoon: 1.05, shapeSun: 1.05, shapeCloud: 1.15,
	shapeHeart: 1.2, shapeRing: 1.05, shapeBoat: 1.1, shapeHouse: 1.05, shapeFlower: 1.7,
	shapeDiamond: 1.1, shapeBalloon: 2.3, shapePlanet: 1.8,
}
