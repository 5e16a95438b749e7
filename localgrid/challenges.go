package localgrid

import (
	"github.com/fractal-grid/fractal/jetstream"
	"github.com/fractal-grid/fractal/validator"
)

// QueueChallenges sets v, before it opens, to send its challenges through
// st's job queue (validator.ChallengeQueue): the gateway replicas over st
// dispatch them like users' jobs, and their results and failures come back
// through st's sample and failure logs, which v then consumes itself, its
// users' samples included. A grid with no replica over st gets no
// verdicts: each challenge waits Config.QueueWait, then is cancelled.
func QueueChallenges(v *validator.Validator, st *jetstream.Store) {
	v.Config.ChallengePath = validator.ChallengeQueue
	v.Jobs, v.Queue, v.Samples, v.Blobs = st.Jobs(), st.Queue(), st.Queue(), st.Blobs()
}
