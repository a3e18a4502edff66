"""GPU probe: where a pretraining step's time goes (plain torch eager / CUDA graph / ours), and ACeDeC's phases
on MNIST eager against compile_step=True. Usage: python probe.py PART [DEVICE]; prints JSON lines."""
import json, sys, time, os
import numpy as np, torch
from clustpy.deep.neural_networks import FeedforwardAutoencoder
part = sys.argv[1]; dev = sys.argv[2] if len(sys.argv) > 2 else "cuda"
N_STEPS = int(os.environ.get("PROBE_STEPS", 300))
def sync():
    if dev == "cuda": torch.cuda.synchronize()
def out(**k): print(json.dumps(k), flush=True)
d = np.load(os.path.join(os.environ.get("DATA", ".gpu"), "mnist.npz"))
X = torch.tensor((d["data"].reshape(len(d["data"]), -1) / 255.0).astype(np.float32), device=dev)
y = d["labels"]
def ae():
    torch.manual_seed(0)
    return FeedforwardAutoencoder(layers=[784, 500, 500, 2000, 10]).to(dev)
if part == "plain":
    for prec in ("float32", "bfloat16"):
        net = ae(); opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        idx = torch.randint(len(X), (N_STEPS + 20, 256), device=dev)
        def step(i):
            x = X[idx[i]]
            with torch.autocast(dev, dtype=torch.bfloat16, enabled=prec == "bfloat16"):
                r = net.decode(net.encode(x))
            loss = ((r.float() - x) ** 2).mean()
            opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
            return loss
        for i in range(20): step(i)
        sync(); t = time.perf_counter()
        for i in range(N_STEPS): step(i)
        sync(); out(part="plain eager", precision=prec, ms_per_step=round(1e3 * (time.perf_counter() - t) / N_STEPS, 3))
    if dev == "cuda":  # the same float32 step captured in one CUDA graph
        net = ae(); opt = torch.optim.Adam(net.parameters(), lr=1e-3, capturable=True)
        xs = X[:256].clone()
        def gstep():
            r = net.decode(net.encode(xs)); loss = ((r - xs) ** 2).mean()
            opt.zero_grad(set_to_none=False); loss.backward(); opt.step(); return loss
        s = torch.cuda.Stream(); s.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(s):
            for _ in range(3): gstep()
        torch.cuda.current_stream().wait_stream(s)
        g = torch.cuda.CUDAGraph()
        with torch.cuda.graph(g): gl = gstep()
        idx = torch.randint(len(X), (N_STEPS + 20, 256), device=dev)
        sync(); t = time.perf_counter()
        for i in range(N_STEPS):
            xs.copy_(X[idx[i]]); g.replay()
        sync(); out(part="plain cuda graph", precision="float32", ms_per_step=round(1e3 * (time.perf_counter() - t) / N_STEPS, 3))
elif part == "ours":
    from clustpy_acedec.pretraining import pretrain
    for prec in ("float32", "bfloat16"):
        net = ae(); g = torch.Generator(device=dev).manual_seed(0)
        pretrain(net, X[:2560], None, 1, 256, torch.optim.Adam, {"lr": 1e-3}, g, execution=prec)  # warm-up
        net = ae(); sync(); t = time.perf_counter()
        pretrain(net, X, None, 2, 256, torch.optim.Adam, {"lr": 1e-3}, g, execution=prec)
        sync(); steps = 2 * -(-len(X) // 256)
        out(part="ours end-to-end pretraining", precision=prec, ms_per_step=round(1e3 * (time.perf_counter() - t) / steps, 3))
else:  # acedec eager | acedec compiled
    from clustpy.deep import DCN
    from sklearn.metrics import normalized_mutual_info_score as nmi
    from clustpy_acedec import ACeDeC
    compiled = part == "compiled"
    t = time.perf_counter()
    m = ACeDeC(base=DCN(n_clusters=10, batch_size=256, pretrain_epochs=int(os.environ.get("PE", 3)), clustering_epochs=int(os.environ.get("CE", 3)),
                        embedding_size=10, device=dev, random_state=0), precision="bfloat16", compile_step=compiled,
               init_iterations=int(os.environ.get("II", 1000))).fit(X.cpu().numpy())
    out(part=f"acedec {part}", seconds=round(time.perf_counter() - t, 1), nmi=round(nmi(y, m.labels_), 3),
        fit_seconds={k: round(v, 2) for k, v in m.fit_seconds_.items()})
