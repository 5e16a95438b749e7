package refengine

// Word classes as Words names them.
const (
	WordObject    = "object"
	WordColour    = "colour"
	WordMotion    = "motion"
	WordDirection = "direction"
	WordBackdrop  = "backdrop"
	WordTime      = "time"
	WordStyle     = "style"
	WordCount     = "count"
	WordSize      = "size"
)

var classNames = map[wordClass]string{
	classObject: WordObject, classColour: WordColour, classMotion: WordMotion,
	classDirection: WordDirection, classBackdrop: WordBackdrop, classTime: WordTime,
	classStyle: WordStyle, classCount: WordCount, classSize: WordSize,
}

// Words returns the vocabulary the prompt parser knows, by class, each list
// in alphabetical order. Validators build challenge prompts from it.
func Words() map[string][]string {
	out := map[string][]string{}
	for _, e := range vocabulary {
		if name, ok := classNames[e.class]; ok {
			out[name] = append(out[name], e.word)
		}
	}
	return out
}
