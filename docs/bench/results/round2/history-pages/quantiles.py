import sys,re
def load(p):
    d={}
    for l in open(p):
        m=re.match(r'parlor_history_page_seconds_bucket\{le="([^"]+)"\} (\d+)',l)
        if m: d[m.group(1)]=int(m.group(2))
    return d
a=load(sys.argv[1]); b=load(sys.argv[2])
keys=list(b.keys()); n=b['+Inf']-a.get('+Inf',0)
out=[]
for k in keys:
    c=b[k]-a.get(k,0); out.append((k,c))
def q(p):
    for k,c in out:
        if c>=p*n: return k
print(f"n={n} p50<={q(.5)} p90<={q(.9)} p99<={q(.99)} within1ms={dict(out)['0.001']/n:.1%}")
