"""realKnownCause held out: its score at its own and the other categories' thresholds, per config."""
from streams.lab.cv import NabCorpus, nab_scores_of, category
from streams.lab.nabdata import load_corpus, load_windows
from streams.lab.scoring.nab import normalise, PROFILES
D="/work/shared/data/nab"
series=load_corpus(D); corpus=NabCorpus({n:s.ts_ms for n,s in series.items()}, load_windows(D))
so=nab_scores_of({n: series[n].values for n in corpus.names}, "novelty")
base={"warm":250,"bins":8,"order":3,"margin":0.25,"rest":"probation","alarm":0.75,"s_lo":3.0,"s_hi":6.0}
rkc=[n for n in corpus.names if category(n)=="realKnownCause"]
oth=[n for n in corpus.names if category(n)!="realKnownCause"]
w=corpus.windows_of(rkc); wo=corpus.windows_of(oth)
for cfg in (base, {**base,"margin":0.5,"s_lo":2.0}, {**base,"margin":0.5}, {**base,"s_lo":2.0}):
    s=so(cfg)
    tb,rb,*_=corpus.evaluate(s,"standard",rkc)
    to,ro,*_=corpus.evaluate(s,"standard",oth)
    line=[f"rkc best thr {tb:.3f} -> {normalise(rb,w,PROFILES['standard']):.1f}", f"others best {to:.3f} -> {normalise(ro,wo,PROFILES['standard']):.1f}"]
    for t in (0.525,0.75):
        _,r,tp,fp,fn=corpus.evaluate(s,"standard",rkc,t); line.append(f"rkc@{t} {normalise(r,w,PROFILES['standard']):.1f} tp{tp} fp{fp} fn{fn}")
    print({k:cfg[k] for k in ("margin","s_lo")}, " | ".join(line))
