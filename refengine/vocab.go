package refengine

// The vocabulary: every word the prompt parser knows, with its class and
// value. The table is part of the model; it is hashed into the profile digest,
// so any change to it changes the profile.

type wordClass uint8

const (
	classFiller wordClass = iota
	classObject
	classColour
	classMotion
	classDirection
	classBackdrop
	classTime
	classStyle
	classCount
	classSize
)

type shapeKind uint8

const (
	shapeBall shapeKind = iota
	shapeStar
	shapeCube
	shapeBird
	shapeFish
	shapeTree
	shapeCar
	shapeMoon
	shapeSun
	shapeCloud
	shapeHeart
	shapeRing
	shapeBoat
	shapeHouse
	shapeFlower
	shapeDiamond
	shapeBalloon
	shapePlanet
	numShapes
)

type motionKind uint8

const (
	motionDefault motionKind = iota
	motionStill
	motionBounce
	motionSpin
	motionMove // horizontal, direction from a direction word
	motionRise
	motionFall
	motionOrbit
	motionFloat
	motionPulse
	motionShake
	motionFly
	numMotions
)

// Direction values.
const (
	dirRight = iota
	dirLeft
	dirUp
	dirDown
)

type backdropKind uint8

const (
	backdropPlain backdropKind = iota
	backdropSky
	backdropOcean
	backdropForest
	backdropDesert
	backdropCity
	backdropSpace
	backdropSnow
	backdropField
	backdropMountain
	numBackdrops
)

type timeKind uint8

const (
	timeDay timeKind = iota
	timeNight
	timeSunset
	timeDawn
	numTimes
)

type styleFlag uint8

const (
	styleDark styleFlag = 1 << iota
	styleBright
	styleNeon
	styleFoggy
	stylePastel
	styleMono
	styleRainy
)

type vocabEntry struct {
	word  string
	class wordClass
	value uint8
}

// vocabulary is sorted by word (lookup uses binary search).
var vocabulary = []vocabEntry{
	{"a", classCount, 1},
	{"above", classFiller, 0},
	{"across", classFiller, 0},
	{"an", classCount, 1},
	{"and", classFiller, 0},
	{"are", classFiller, 0},
	{"around", classFiller, 0},
	{"at", classFiller, 0},
	{"ball", classObject, uint8(shapeBall)},
	{"balloon", classObject, uint8(shapeBalloon)},
	{"beach", classBackdrop, uint8(backdropOcean)},
	{"big", classSize, 3},
	{"bird", classObject, uint8(shapeBird)},
	{"black", classColour, colourBlack},
	{"blue", classColour, colourBlue},
	{"boat", classObject, uint8(shapeBoat)},
	{"bounce", classMotion, uint8(motionBounce)},
	{"bouncing", classMotion, uint8(motionBounce)},
	{"box", classObject, uint8(shapeCube)},
	{"bright", classStyle, uint8(styleBright)},
	{"brown", classColour, colourBrown},
	{"car", classObject, uint8(shapeCar)},
	{"circling", classMotion, uint8(motionOrbit)},
	{"city", classBackdrop, uint8(backdropCity)},
	{"cloud", classObject, uint8(shapeCloud)},
	{"cosmos", classBackdrop, uint8(backdropSpace)},
	{"crimson", classColour, colourCrimson},
	{"cube", classObject, uint8(shapeCube)},
	{"cyan", classColour, colourCyan},
	{"dark", classStyle, uint8(styleDark)},
	{"dawn", classTime, uint8(timeDawn)},
	{"day", classTime, uint8(timeDay)},
	{"daylight", classTime, uint8(timeDay)},
	{"desert", classBackdrop, uint8(backdropDesert)},
	{"diamond", classObject, uint8(shapeDiamond)},
	{"down", classDirection, dirDown},
	{"drifting", classMotion, uint8(motionFloat)},
	{"dropping", classMotion, uint8(motionFall)},
	{"dunes", classBackdrop, uint8(backdropDesert)},
	{"dusk", classTime, uint8(timeSunset)},
	{"eight", classCount, 8},
	{"evening", classTime, uint8(timeSunset)},
	{"falling", classMotion, uint8(motionFall)},
	{"few", classCount, 3},
	{"field", classBackdrop, uint8(backdropField)},
	{"fish", classObject, uint8(shapeFish)},
	{"five", classCount, 5},
	{"floating", classMotion, uint8(motionFloat)},
	{"flower", classObject, uint8(shapeFlower)},
	{"flying", classMotion, uint8(motionFly)},
	{"fog", classStyle, uint8(styleFoggy)},
	{"foggy", classStyle, uint8(styleFoggy)},
	{"forest", classBackdrop, uint8(backdropForest)},
	{"four", classCount, 4},
	{"frozen", classMotion, uint8(motionStill)},
	{"galaxy", classBackdrop, uint8(backdropSpace)},
	{"giant", classSize, 4},
	{"gold", classColour, colourGold},
	{"golden", classColour, colourGold},
	{"grass", classBackdrop, uint8(backdropField)},
	{"gray", classColour, colourGray},
	{"green", classColour, colourGreen},
	{"grey", classColour, colourGray},
	{"heart", classObject, uint8(shapeHeart)},
	{"house", classObject, uint8(shapeHouse)},
	{"huge", classSize, 4},
	{"ice", classBackdrop, uint8(backdropSnow)},
	{"in", classFiller, 0},
	{"is", classFiller, 0},
	{"lake", classBackdrop, uint8(backdropOcean)},
	{"large", classSize, 3},
	{"left", classDirection, dirLeft},
	{"little", classSize, 1},
	{"magenta", classColour, colourMagenta},
	{"many", classCount, 6},
	{"meadow", classBackdrop, uint8(backdropField)},
	{"midnight", classTime, uint8(timeNight)},
	{"misty", classStyle, uint8(styleFoggy)},
	{"monochrome", classStyle, uint8(styleMono)},
	{"moon", classObject, uint8(shapeMoon)},
	{"morning", classTime, uint8(timeDawn)},
	{"motionless", classMotion, uint8(motionStill)},
	{"mountain", classBackdrop, uint8(backdropMountain)},
	{"mountains", classBackdrop, uint8(backdropMountain)},
	{"move", classMotion, uint8(motionMove)},
	{"moving", classMotion, uint8(motionMove)},
	{"navy", classColour, colourNavy},
	{"neon", classStyle, uint8(styleNeon)},
	{"night", classTime, uint8(timeNight)},
	{"nine", classCount, 9},
	{"noon", classTime, uint8(timeDay)},
	{"ocean", classBackdrop, uint8(backdropOcean)},
	{"of", classFiller, 0},
	{"on", classFiller, 0},
	{"one", classCount, 1},
	{"orange", classColour, colourOrange},
	{"orb", classObject, uint8(shapeBall)},
	{"orbiting", classMotion, uint8(motionOrbit)},
	{"over", classFiller, 0},
	{"pastel", classStyle, uint8(stylePastel)},
	{"pink", classColour, colourPink},
	{"planet", classObject, uint8(shapePlanet)},
	{"pulsing", classMotion, uint8(motionPulse)},
	{"purple", classColour, colourPurple},
	{"rain", classStyle, uint8(styleRainy)},
	{"rainy", classStyle, uint8(styleRainy)},
	{"red", classColour, colourRed},
	{"right", classDirection, dirRight},
	{"ring", classObject, uint8(shapeRing)},
	{"rising", classMotion, uint8(motionRise)},
	{"river", classBackdrop, uint8(backdropOcean)},
	{"rolling", classMotion, uint8(motionMove)},
	{"rotating", classMotion, uint8(motionSpin)},
	{"sand", classBackdrop, uint8(backdropDesert)},
	{"sea", classBackdrop, uint8(backdropOcean)},
	{"several", classCount, 4},
	{"shaking", classMotion, uint8(motionShake)},
	{"silver", classColour, colourSilver},
	{"six", classCount, 6},
	{"sky", classBackdrop, uint8(backdropSky)},
	{"small", classSize, 1},
	{"snow", classBackdrop, uint8(backdropSnow)},
	{"snowy", classBackdrop, uint8(backdropSnow)},
	{"space", classBackdrop, uint8(backdropSpace)},
	{"sphere", classObject, uint8(shapeBall)},
	{"spinning", classMotion, uint8(motionSpin)},
	{"star", classObject, uint8(shapeStar)},
	{"static", classMotion, uint8(motionStill)},
	{"still", classMotion, uint8(motionStill)},
	{"storm", classStyle, uint8(styleRainy)},
	{"street", classBackdrop, uint8(backdropCity)},
	{"sun", classObject, uint8(shapeSun)},
	{"sunrise", classTime, uint8(timeDawn)},
	{"sunset", classTime, uint8(timeSunset)},
	{"swimming", classMotion, uint8(motionMove)},
	{"teal", classColour, colourTeal},
	{"ten", classCount, 10},
	{"the", classFiller, 0},
	{"three", classCount, 3},
	{"through", classFiller, 0},
	{"tiny", classSize, 0},
	{"to", classFiller, 0},
	{"town", classBackdrop, uint8(backdropCity)},
	{"tree", classObject, uint8(shapeTree)},
	{"turning", classMotion, uint8(motionSpin)},
	{"two", classCount, 2},
	{"under", classFiller, 0},
	{"up", classDirection, dirUp},
	{"violet", classColour, colourViolet},
	{"water", classBackdrop, uint8(backdropOcean)},
	{"waves", classBackdrop, uint8(backdropOcean)},
	{"white", classColour, colourWhite},
	{"winter", classBackdrop, uint8(backdropSnow)},
	{"with", classFiller, 0},
	{"woods", classBackdrop, uint8(backdropForest)},
	{"yellow", classColour, colourYellow},
}

// Colour indices into palette.
const (
	colourRed = iota
	colourOrange
	colourYellow
	colourGreen
	colourBlue
	colourPurple
	colourViolet
	colourPink
	colourWhite
	colourBlack
	colourGray
	colourBrown
	colourGold
	colourSilver
	colourCyan
	colourTeal
	colourMagenta
	colourCrimson
	colourNavy
	numColours
)

type rgb [3]float32

// palette holds the linear-ish display colour of each colour word.
var palette = [numColours]rgb{
	colourRed:     {0.90, 0.10, 0.08},
	colourOrange:  {0.98, 0.50, 0.08},
	colourYellow:  {0.98, 0.86, 0.12},
	colourGreen:   {0.15, 0.72, 0.20},
	colourBlue:    {0.12, 0.32, 0.92},
	colourPurple:  {0.52, 0.16, 0.78},
	colourViolet:  {0.62, 0.38, 0.92},
	colourPink:    {0.98, 0.52, 0.72},
	colourWhite:   {0.95, 0.95, 0.95},
	colourBlack:   {0.06, 0.06, 0.07},
	colourGray:    {0.50, 0.50, 0.52},
	colourBrown:   {0.48, 0.30, 0.14},
	colourGold:    {0.92, 0.70, 0.20},
	colourSilver:  {0.78, 0.80, 0.84},
	colourCyan:    {0.10, 0.85, 0.90},
	colourTeal:    {0.05, 0.55, 0.55},
	colourMagenta: {0.90, 0.12, 0.75},
	colourCrimson: {0.72, 0.05, 0.16},
	colourNavy:    {0.06, 0.10, 0.42},
}

// shapeInfo holds per-shape defaults: colour, size (radius in frame heights),
// resting height (0 top, 1 bottom), and default motion.
type shapeInfo struct {
	colour int
	size   float32
	rest   float32
	motion motionKind
}

var shapes = [numShapes]shapeInfo{
	shapeBall:    {colourOrange, 0.09, 0.50, motionFloat},
	shapeStar:    {colourYellow, 0.12, 0.35, motionFloat},
	shapeCube:    {colourBlue, 0.09, 0.50, motionFloat},
	shapeBird:    {colourBlack, 0.08, 0.25, motionFly},
	shapeFish:    {colourOrange, 0.09, 0.80, motionMove},
	shapeTree:    {colourGreen, 0.14, 0.62, motionStill},
	shapeCar:     {colourRed, 0.13, 0.78, motionMove},
	shapeMoon:    {colourYellow, 0.08, 0.18, motionStill},
	shapeSun:     {colourYellow, 0.09, 0.18, motionStill},
	shapeCloud:   {colourWhite, 0.10, 0.20, motionMove},
	shapeHeart:   {colourRed, 0.09, 0.45, motionPulse},
	shapeRing:    {colourGold, 0.09, 0.45, motionFloat},
	shapeBoat:    {colourWhite, 0.10, 0.66, motionFloat},
	shapeHouse:   {colourBrown, 0.12, 0.64, motionStill},
	shapeFlower:  {colourPink, 0.07, 0.78, motionFloat},
	shapeDiamond: {colourCyan, 0.08, 0.45, motionSpin},
	shapeBalloon: {colourRed, 0.08, 0.40, motionRise},
	shapePlanet:  {colourOrange, 0.11, 0.35, motionStill},
}

// sizeScale maps the size words' values to radius factors.
var sizeScale = [5]float32{0.55, 0.75, 1, 1.35, 1.7}

// lookupWord finds w in the vocabulary.
func lookupWord(w string) (vocabEntry, bool) {
	lo, hi := 0, len(vocabulary)
	for lo < hi {
		m := (lo + hi) / 2
		if vocabulary[m].word < w {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(vocabulary) && vocabulary[lo].word == w {
		return vocabulary[lo], true
	}
	return vocabEntry{}, false
}
