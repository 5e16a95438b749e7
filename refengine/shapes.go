package refengine

// Signed distances (negative inside) and shading of the object shapes. All
// lengths are in frame heights; dx, dy are relative to the object's centre,
// y pointing down.

// cover turns a signed distance into pixel coverage.
func cover(d, invPx float32) float32 { return clamp(0.5-float32(d*invPx), 0, 1) }

func boxDist(x, y, hx, hy float32) float32 {
	ax, ay := abs32(x)-hx, abs32(y)-hy
	return hypot(max(ax, 0), max(ay, 0)) + min(max(ax, ay), 0)
}

func circleDist(x, y, r float32) float32 { return hypot(x, y) - r }

// segmentDist is the distance from (x, y) to the segment (ax, ay)–(bx, by).
func segmentDist(x, y, ax, ay, bx, by float32) float32 {
	px, py := x-ax, y-ay
	ex, ey := bx-ax, by-ay
	h := clamp((float32(px*ex)+float32(py*ey))/(float32(ex*ex)+float32(ey*ey)), 0, 1)
	return hypot(px-float32(ex*h), py-float32(ey*h))
}

// Star geometry: unit vectors of the five-fold reflection.
const (
	starK1x = 0.809016994375
	starK1y = -0.587785252292
	starIn  = 0.45 // inner radius fraction
)

// starDist is the distance to a five-pointed star of radius r, point up.
func starDist(x, y, r float32) float32 {
	y = -y
	x = abs32(x)
	k := 2 * max(float32(starK1x*x)+float32(starK1y*y), 0)
	x, y = x-float32(k*starK1x), y-float32(k*starK1y)
	k = 2 * max(float32(-starK1x*x)+float32(starK1y*y), 0)
	x, y = x-float32(k*-starK1x), y-float32(k*starK1y)
	x = abs32(x)
	y -= r
	bax := float32(float32(starIn*r) * -starK1y)
	bay := float32(float32(starIn*r)*starK1x) - r
	h := clamp((float32(x*bax)+float32(y*bay))/(float32(bax*bax)+float32(bay*bay)), 0, r)
	d := hypot(x-float32(bax*h), y-float32(bay*h))
	if float32(y*bax)-float32(x*bay) < 0 {
		return -d
	}
	return d
}

// sphere shades a disc of radius r as a lit ball.
func sphere(c rgb, dx, dy, r float32) rgb {
	nx, ny := dx/r, dy/r
	l := 0.66 - float32(0.28*nx) - float32(0.34*ny)
	c = scale(c, clamp(l, 0.25, 1.1))
	s := clamp(1-float32(hypot(nx+0.38, ny+0.42)*3.2), 0, 1)
	return mixRGB(c, rgb{1, 1, 1}, float32(float32(s*s)*0.85))
}

// shade returns the signed distance (frame heights, negative inside) from
// offset (dx, dy) to the object's outline, and the object's colour there.
func (o *placed) shade(dx, dy float32) (float32, rgb) {
	rx := float32(o.cos*dx) + float32(o.sin*dy)
	ry := float32(o.cos*dy) - float32(o.sin*dx)
	if o.flip {
		dx, rx = -dx, -rx
	}
	return shaders[o.shape](o, pt{dx, dy, rx, ry})
}

// pt is a pixel relative to an object's centre: (dx, dy) upright and
// (rx, ry) rotated with the object.
type pt struct{ dx, dy, rx, ry float32 }

// shaders draws each shape: signed distance and colour.
var shaders = [numShapes]func(o *placed, p pt) (float32, rgb){
	shapeBall:    (*placed).ball,
	shapePlanet:  (*placed).planet,
	shapeBalloon: (*placed).balloon,
	shapeStar:    (*placed).star,
	shapeCube:    (*placed).cube,
	shapeDiamond: (*placed).diamond,
	shapeBird:    (*placed).bird,
	shapeFish:    (*placed).fish,
	shapeTree:    (*placed).tree,
	shapeCar:     (*placed).car,
	shapeMoon:    (*placed).moon,
	shapeSun:     (*placed).sun,
	shapeCloud:   (*placed).cloud,
	shapeHeart:   (*placed).heart,
	shapeRing:    (*placed).ring,
	shapeBoat:    (*placed).boat,
	shapeHouse:   (*placed).house,
	shapeFlower:  func(o *placed, p pt) (float32, rgb) { return o.flower(p.dx, p.dy) },
}

func (o *placed) ball(p pt) (float32, rgb) {
	dx, dy, rx, ry, r, c := p.dx, p.dy, p.rx, p.ry, o.r, o.colour
	c = sphere(c, dx, dy, r)
	if o.spin && float32(rx*ry) > 0 {
		c = mixRGB(c, rgb{1, 1, 1}, 0.6)
	}
	return circleDist(dx, dy, r), c
}

func (o *placed) planet(p pt) (float32, rgb) {
	dx, dy, rx, ry, r, c := p.dx, p.dy, p.rx, p.ry, o.r, o.colour
	ring := abs32(hypot(rx, float32(ry*3.2))-float32(1.45*r)) - float32(0.12*r)
	if ring < 0 && (ry > 0 || hypot(dx, dy) > r) {
		return ring, scale(c, 1.25)
	}
	return circleDist(dx, dy, r), sphere(c, dx, dy, r)
}

func (o *placed) balloon(p pt) (float32, rgb) {
	dx, dy, r, c := p.dx, p.dy, o.r, o.colour
	d := float32((hypot(dx, float32(dy*0.85)) - float32(0.85*r)) * 1.1)
	if d > 0 && dy > 0 {
		str := segmentDist(dx, dy, 0, float32(0.95*r), float32(0.1*r), float32(2.2*r)) - float32(0.02*r)
		return str, rgb{0.3, 0.3, 0.3}
	}
	return d, sphere(c, dx, dy, r)
}

func (o *placed) star(p pt) (float32, rgb) {
	rx, ry, r, c := p.rx, p.ry, o.r, o.colour
	d := starDist(rx, ry, r)
	return d, scale(c, 0.8+float32(0.35*clamp(-d/r, 0, 1)))
}

func (o *placed) cube(p pt) (float32, rgb) {
	rx, ry, r, c := p.rx, p.ry, o.r, o.colour
	s := float32(0.78 * r)
	d := boxDist(rx, ry, s, s) - float32(0.05*r)
	edge := min(s-abs32(rx), s-abs32(ry))
	k := 0.9 - float32((rx+ry)/s*0.15)
	if edge < float32(0.14*r) {
		k = float32(k * 0.7)
	}
	return d, scale(c, k)
}

func (o *placed) diamond(p pt) (float32, rgb) {
	rx, ry, r, c := p.rx, p.ry, o.r, o.colour
	d := float32((float32(abs32(rx)*1.3) + abs32(ry) - r) * 0.62)
	if rx < 0 {
		c = scale(c, 1.2)
	}
	return d, c
}

func (o *placed) bird(p pt) (float32, rgb) {
	dx, dy, r, c := p.dx, p.dy, o.r, o.colour
	lift := float32(o.flap * 0.45 * r)
	ex, ey := float32(0.5*r), float32(-0.1*r)-float32(0.5*lift)
	tx, ty := r, float32(0.15*r)-lift
	ax := abs32(dx)
	d := min(segmentDist(ax, dy, 0, 0, ex, ey), segmentDist(ax, dy, ex, ey, tx, ty)) - float32(0.09*r)
	d = min(d, hypot(dx, float32(dy*1.8))-float32(0.2*r))
	return d, c
}

func (o *placed) fish(p pt) (float32, rgb) {
	dx, dy, r, c := p.dx, p.dy, o.r, o.colour
	body := float32((hypot(dx, float32(dy*1.8)) - float32(0.85*r)) * 0.55)
	tail := max(abs32(dy)-float32((float32(-0.6*r)-dx)*0.9), max(dx+float32(0.6*r), -dx-float32(1.4*r)))
	d := min(body, tail)
	if hypot(dx-float32(0.45*r), dy+float32(0.1*r)) < float32(0.1*r) {
		c = rgb{0.05, 0.05, 0.05}
	} else if dy > float32(0.15*r) && body < 0 {
		c = mixRGB(c, rgb{1, 1, 1}, 0.3)
	}
	return d, c
}

func (o *placed) tree(p pt) (float32, rgb) {
	dx, dy, r, c := p.dx, p.dy, o.r, o.colour
	trunk := boxDist(dx, dy-float32(0.55*r), float32(0.13*r), float32(0.45*r))
	crown := circleDist(dx, dy+float32(0.25*r), float32(0.72*r))
	if crown < 0 || crown < trunk {
		return crown, sphere(c, dx, dy+float32(0.25*r), float32(0.72*r))
	}
	return trunk, rgb{0.35, 0.22, 0.1}
}

func (o *placed) car(p pt) (float32, rgb) {
	dx, dy, r, c := p.dx, p.dy, o.r, o.colour
	wheel := min(circleDist(dx-float32(0.6*r), dy-float32(0.3*r), float32(0.24*r)),
		circleDist(dx+float32(0.6*r), dy-float32(0.3*r), float32(0.24*r)))
	body := boxDist(dx, dy-float32(0.08*r), r, float32(0.24*r)) - float32(0.05*r)
	cabin := boxDist(dx+float32(0.05*r), dy+float32(0.3*r), float32(0.5*r), float32(0.2*r)) - float32(0.06*r)
	switch {
	case wheel < 0 || (wheel < body && wheel < cabin):
		return wheel, rgb{0.08, 0.08, 0.09}
	case cabin < 0 && dy < float32(-0.22*r) && abs32(dx+float32(0.05*r)) < float32(0.42*r):
		return -r, rgb{0.62, 0.8, 0.95}
	}
	return min(body, cabin), scale(c, 1-float32(dy/r*0.2))
}

func (o *placed) moon(p pt) (float32, rgb) {
	dx, dy, r, c := p.dx, p.dy, o.r, o.colour
	d := max(circleDist(dx, dy, r), -circleDist(dx-float32(0.5*r), dy+float32(0.25*r), float32(0.85*r)))
	return d, mixRGB(c, rgb{1, 1, 0.9}, 0.5)
}

func (o *placed) sun(p pt) (float32, rgb) {
	dx, dy, r, c := p.dx, p.dy, o.r, o.colour
	return circleDist(dx, dy, r), mixRGB(c, rgb{1, 1, 0.85}, clamp(1-hypot(dx, dy)/r, 0, 1))
}

func (o *placed) cloud(p pt) (float32, rgb) {
	dx, dy, r, c := p.dx, p.dy, o.r, o.colour
	d := min(circleDist(dx+float32(0.5*r), dy-float32(0.1*r), float32(0.48*r)),
		min(circleDist(dx, dy+float32(0.15*r), float32(0.6*r)), circleDist(dx-float32(0.55*r), dy-float32(0.12*r), float32(0.44*r))))
	d = min(d, boxDist(dx, dy-float32(0.3*r), float32(0.6*r), float32(0.25*r)))
	return float32(d * 0.5), scale(c, 1-float32(clamp(dy/r, 0, 1)*0.18))
}

func (o *placed) heart(p pt) (float32, rgb) {
	rx, ry, r, c := p.rx, p.ry, o.r, o.colour
	u := float32(rx / r * 1.15)
	v := float32(-ry/r*1.15) + 0.2
	q := float32(u*u) + float32(v*v) - 1
	f := float32(float32(q*q)*q) - float32(float32(u*u)*float32(float32(v*v)*v))
	return float32(f * 0.4 * r), scale(c, 1-float32(ry/r*0.15))
}

func (o *placed) ring(p pt) (float32, rgb) {
	dx, dy, r, c := p.dx, p.dy, o.r, o.colour
	return abs32(hypot(dx, dy)-float32(0.75*r)) - float32(0.22*r), sphere(c, dx, dy, r)
}

func (o *placed) boat(p pt) (float32, rgb) {
	dx, dy, r, c := p.dx, p.dy, o.r, o.colour
	hull := max(boxDist(dx, dy-float32(0.28*r), r, float32(0.18*r)), abs32(dx)-r+float32((dy-float32(0.1*r))*1.2))
	sail := max(max(-dx+float32(0.05*r), dy-float32(0.05*r)), dx-float32(float32(0.05*r)+float32((dy+r)*0.65)))
	if sail < hull {
		return sail, rgb{0.96, 0.95, 0.9}
	}
	return hull, c
}

func (o *placed) house(p pt) (float32, rgb) {
	dx, dy, r, c := p.dx, p.dy, o.r, o.colour
	body := boxDist(dx, dy-float32(0.3*r), float32(0.7*r), float32(0.5*r))
	roof := max(dy-float32(-0.2*r), abs32(dx)-float32((dy+r)*1.1))
	if roof < body {
		return roof, rgb{0.55, 0.15, 0.1}
	}
	if boxDist(dx, dy-float32(0.55*r), float32(0.15*r), float32(0.25*r)) < 0 {
		c = rgb{0.2, 0.12, 0.06}
	}
	return body, c
}

// flower draws five petals around a yellow centre on a stem.
func (o *placed) flower(dx, dy float32) (float32, rgb) {
	r := o.r
	if centre := circleDist(dx, dy, float32(0.3*r)); centre < 0 {
		return -r, rgb{0.98, 0.85, 0.2}
	}
	d := float32(1e9)
	for k := 0; k < 5; k++ {
		a := float32(float32(k)*0.2) + float32(0.05*o.sin)
		d = min(d, circleDist(dx-float32(0.55*r*cosTurns(a)), dy-float32(0.55*r*sinTurns(a)), float32(0.36*r)))
	}
	stem := boxDist(dx, dy-float32(1.2*r), float32(0.06*r), float32(0.6*r))
	if stem < d {
		return stem, rgb{0.2, 0.55, 0.15}
	}
	return d, o.colour
}
