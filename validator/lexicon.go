package validator

// The lexicon challenge prompts are written from: the things people ask a
// video model for, as they write them. Each list is a slot of the grammar in
// prompt.go. The reference engine renders the words it knows (colours,
// objects, motions, backdrops) and hashes the rest into the scene, so every
// word changes the video.

var lexSubjects = []string{
	"cat", "dog", "man", "woman", "girl", "little girl", "boy", "car", "dragon", "astronaut", "robot", "horse",
	"bird", "fox", "wolf", "old man", "kitten", "puppy", "couple", "knight", "fish", "eagle", "whale", "owl",
	"train", "spaceship", "ship", "lion", "tiger", "bear", "black cat", "orange tabby cat", "golden retriever",
	"corgi", "husky", "red fox", "polar bear", "panda", "koala", "raccoon", "hawk", "hummingbird", "parrot",
	"flamingo", "penguin", "swan", "duck", "white horse", "deer", "elephant", "giraffe", "cheetah", "zebra",
	"monkey", "gorilla", "dolphin", "humpback whale", "shark", "sea turtle", "jellyfish", "octopus", "goldfish",
	"butterfly", "bee", "dragonfly", "snail", "frog", "rabbit", "hamster", "squirrel", "hedgehog", "lizard",
	"chameleon", "snake", "crab", "young woman", "little boy", "teenager", "grandmother", "samurai", "wizard",
	"witch", "pirate", "cowboy", "ninja", "ballerina", "dancer", "chef", "barista", "surfer", "skateboarder",
	"snowboarder", "skier", "cyclist", "runner", "boxer", "musician", "guitarist", "violinist", "DJ",
	"street performer", "fisherman", "farmer", "scientist", "detective", "soldier", "firefighter", "doctor",
	"businessman", "student", "family", "giant robot", "android", "alien", "unicorn", "phoenix", "ghost",
	"mermaid", "fairy", "vampire", "zombie", "superhero", "red sports car", "vintage car", "motorcycle",
	"bicycle", "steam train", "bullet train", "sailboat", "fishing boat", "pirate ship", "submarine",
	"hot air balloon", "airplane", "helicopter", "rocket", "drone", "tank", "bus", "taxi", "truck",
	"cup of coffee", "candle", "campfire", "paper boat", "kite", "umbrella", "clock", "book", "lantern",
	"crystal ball", "glass sphere", "balloon", "red balloon", "paper airplane", "soap bubble", "snowman",
	"teddy bear", "toy robot", "chess piece", "burger", "pizza", "bowl of ramen", "slice of cake",
	"ice cream cone", "bottle of perfume", "sneaker", "wristwatch", "smartphone", "sunflower", "rose",
	"cherry blossom tree", "oak tree", "cactus", "mushroom", "waterfall", "volcano", "tornado", "lighthouse",
	"castle", "windmill", "skyscraper", "bridge", "planet", "black hole", "comet", "galaxy", "full moon",
	"star", "cube", "golden orb", "neon ring", "diamond",
}

var lexGroups = []string{
	"a boy and his dog", "a cat and a dog", "a man and a woman", "a robot and a little girl", "a mother and her baby",
	"an old man and his grandson", "a fox and a rabbit",
	"two cats", "three puppies", "a pack of wolves", "a herd of horses", "a flock of birds", "a school of fish",
	"two dancers", "a group of friends", "kids", "a crowd of people", "two astronauts", "a pair of swans",
	"dozens of lanterns", "a swarm of bees", "two robots", "several balloons", "many fireflies", "a few boats",
	"five stars", "three golden rings", "two knights", "a family of ducks", "tourists", "monks",
}

var lexActions = []string{
	"walking", "flying", "running", "jumping", "swimming", "dancing", "playing", "falling", "floating",
	"playing guitar", "sleeping", "eating", "driving", "walking in the rain", "looking at the camera",
	"riding a bike", "sitting", "smiling", "flying over the city", "jumping into the water",
	"running through a field", "swimming underwater", "spinning", "drifting", "sprinting", "gliding", "diving",
	"surfing a huge wave", "skateboarding", "climbing", "crawling", "yawning", "drinking tea",
	"drinking coffee", "cooking", "reading a book", "playing the piano", "playing the violin", "singing",
	"laughing", "crying", "looking up at the sky", "turning around", "waving", "fighting", "sword fighting",
	"practicing kung fu", "doing yoga", "meditating", "painting", "writing a letter", "typing on a laptop",
	"walking slowly", "running in slow motion", "chasing a butterfly", "chasing its tail", "playing fetch",
	"rolling", "bouncing", "orbiting", "rotating slowly", "pulsing", "melting", "exploding",
	"shattering into pieces", "burning", "glowing", "transforming into a butterfly", "morphing", "rising",
	"taking off", "landing", "racing", "driving fast", "drifting around a corner", "sailing", "hovering",
	"breathing fire", "roaring", "howling at the moon", "hunting", "grazing", "nesting",
	"building a sandcastle", "blowing bubbles", "catching snowflakes", "splashing in puddles",
	"walking through the crowd", "crossing the street", "waiting for a train", "standing still",
	"sitting by the window", "sitting on a bench", "lying in the grass", "stretching", "shaking off water",
	"hiding", "peeking out", "emerging from the fog", "disappearing into the mist",
	"walking towards the camera", "walking away from the camera", "turning into dust", "growing", "blooming",
	"swaying in the wind", "flickering", "sparkling", "reflecting the sunlight", "leaping out of the water",
	"spinning on one foot", "doing a backflip", "juggling", "skiing down a slope", "riding a horse", "pouring",
	"steaming",
}

var lexSettings = []string{
	"on the beach", "in the rain", "in the snow", "at night", "through the forest", "in the city",
	"on the street", "in the forest", "through a field", "in space", "underwater", "into the water",
	"in the desert", "in the mountains", "over a lake", "through a tunnel", "in the sky", "on the moon",
	"in a park", "in a kitchen", "in the ocean", "on a rooftop", "in a cafe", "in the jungle", "in a forest",
	"in a dense pine forest", "in a bamboo forest", "in a snowy forest", "in a rainforest", "on a beach",
	"on a tropical beach", "on a black sand beach", "by the sea", "on a coral reef", "in the deep sea",
	"on a lake", "by a frozen lake", "by a river", "near a waterfall", "in a meadow",
	"in a field of sunflowers", "in a wheat field", "in a lavender field", "on a mountain top", "in the Alps",
	"on sand dunes", "in a canyon", "on a glacier", "in the arctic", "in Antarctica", "on Mars",
	"in outer space", "in a nebula", "among the stars", "above the clouds", "in a city", "in New York",
	"in Tokyo", "in Paris", "in London", "in Venice", "in Hong Kong", "in a cyberpunk city",
	"in a futuristic city", "in a neon-lit alley", "on a busy street", "in a subway station",
	"on a train platform", "in an airport", "on a highway", "on a coastal road", "on a country road",
	"in a small village", "in a medieval town", "in a castle", "in a throne room", "in a library",
	"in an old library", "in a coffee shop", "in a bar", "in a jazz club", "in a restaurant", "in a bedroom",
	"in a living room", "in a classroom", "in an office", "in a laboratory", "in a spaceship",
	"on a space station", "in a factory", "in a warehouse", "in an abandoned building", "in a cave",
	"in a temple", "in a Japanese garden", "in a greenhouse", "in Central Park", "at a playground",
	"at a carnival", "at a concert", "on a stage", "in a stadium", "in a boxing ring", "on a football field",
	"in a swimming pool", "in a bathtub", "in a snow globe", "on a table", "on a wooden table",
	"on a white background", "on a black background", "in a studio", "in a tiny miniature world", "in a dream",
	"in a fantasy world", "in a magical forest", "in an enchanted garden", "in a haunted house",
	"in a graveyard", "in a war zone", "on a battlefield", "on a pirate ship", "in a submarine",
	"in a hot spring", "in a rice field", "in a vineyard", "in the street", "through the city",
	"through the streets", "in the park", "in the water", "on the road", "on the ice", "in the garden",
	"in the kitchen", "in the wind", "in the grass", "in the middle of the road", "on the moon surface",
	"with neon lights", "with smoke everywhere", "with mountains in the background", "with the city behind",
	"over the ocean", "over the city", "across the desert", "through the clouds", "down a snowy slope",
	"along the river", "around the planet", "above the sea", "across the sky",
}

var lexTimes = []string{
	"at night", "at sunset", "in the rain", "at sunrise", "in slow motion", "during golden hour", "in the snow",
	"in the fog", "in the morning", "at dusk", "at dawn", "at midnight", "at noon", "in the evening",
	"during blue hour", "in heavy rain", "in a thunderstorm", "during a snowstorm", "on a foggy morning",
	"on a rainy night", "on a sunny day", "on a cloudy day", "under the northern lights", "under a full moon",
	"under the stars", "in autumn", "in winter", "in spring", "in summer", "during a sandstorm",
	"with fireworks in the sky", "with cherry blossoms falling", "with leaves falling",
}

var lexStyles = []string{
	"cinematic", "cinematic lighting", "photorealistic", "hyperrealistic", "realistic", "4k", "8k", "hd",
	"ultra detailed", "highly detailed", "high quality", "masterpiece", "35mm film", "shot on film",
	"film grain", "vintage film", "VHS", "black and white", "monochrome", "sepia", "anime style", "anime",
	"studio ghibli style", "pixar style", "3d animation", "3d render", "unreal engine", "octane render",
	"claymation", "stop motion", "watercolor", "oil painting", "pencil sketch", "comic book style",
	"pixel art", "low poly", "cyberpunk", "steampunk", "vaporwave", "synthwave", "neon", "pastel colors",
	"vibrant colors", "muted colors", "warm tones", "cool tones", "moody", "dreamy", "surreal", "epic",
	"dramatic lighting", "soft lighting", "volumetric lighting", "backlit", "golden light", "natural light",
	"documentary style", "national geographic style", "music video", "commercial", "movie trailer",
	"wes anderson style", "noir", "fantasy", "sci-fi", "horror", "minimalist", "bokeh", "shallow depth of field",
	"slow motion", "timelapse", "8mm home video", "IMAX", "retro 80s", "dark fantasy",
}

var lexCameras = []string{
	"drone shot", "aerial shot", "aerial view", "close-up", "extreme close-up", "macro shot", "wide shot",
	"wide angle", "medium shot", "tracking shot", "dolly shot", "slow dolly in", "dolly out", "zoom in",
	"slow zoom out", "pan left", "slow pan right", "tilt up", "handheld camera", "POV", "first person view",
	"over the shoulder shot", "low angle shot", "high angle shot", "bird's eye view", "orbit shot",
	"360 degree shot", "static camera", "steadicam", "crane shot", "fpv drone", "gopro footage",
	"security camera footage", "dashcam footage", "time-lapse", "slow motion shot", "side view", "front view",
	"top down view", "split screen",
}

// lexCameraMoves finish a sentence that starts with "The camera".
var lexCameraMoves = []string{
	"slowly pans left", "pans to the right", "zooms in", "slowly zooms out", "follows it", "follows them",
	"circles around", "pulls back", "pushes in", "tilts up to the sky", "stays still", "flies over",
	"tracks the movement", "shakes slightly", "moves closer", "rises above the scene",
}

// lexScenes are whole scenes people ask for without a subject doing
// something.
var lexScenes = []string{
	"clouds rolling over mountains", "waves crashing on rocks", "a city skyline at night", "traffic on a highway",
	"stars moving across the night sky", "a flower blooming", "ice melting", "northern lights over a lake",
	"rain falling on a window", "a candle flame flickering", "smoke swirling in the dark", "ink dropping into water",
	"a storm rolling in over the sea", "leaves blowing in the wind", "a river flowing through a valley",
	"snow falling on a quiet street", "lava flowing into the ocean", "a sunrise over the desert",
	"the earth seen from space", "fireworks over a city", "a busy market", "an empty road at night",
	"a train passing through the countryside", "the moon rising over the sea", "a forest fire at night",
	"fog rolling through the trees", "a thunderstorm over the plains", "coffee being poured into a cup",
	"a wave breaking in slow motion", "a galaxy spinning", "cherry blossoms in the wind", "a neon sign buzzing",
}

// lexAdjectives sometimes come before a subject.
var lexAdjectives = []string{
	"small", "tiny", "giant", "huge", "cute", "fluffy", "old", "young", "beautiful", "majestic", "mysterious",
	"glowing", "golden", "silver", "red", "blue", "green", "white", "black", "pink", "purple", "orange",
	"neon", "crystal", "wooden", "metal", "rusty", "futuristic", "ancient", "happy", "sad", "angry", "lonely",
	"wet", "frozen", "tired", "brave", "elegant", "tiny little", "very cute",
}

// lexWith ends a prompt with what else is in the picture.
var lexWith = []string{
	"lights and smoke", "smoke coming out", "the city in the background", "mountains in the background",
	"birds flying around", "rain falling", "snow falling", "sparks flying", "a rainbow behind", "people watching",
	"a dog next to it", "lightning in the distance", "flowers all around", "waves crashing behind", "a big smile",
	"glowing eyes", "a red scarf", "sunglasses on", "a crown on its head", "leaves blowing around",
}
