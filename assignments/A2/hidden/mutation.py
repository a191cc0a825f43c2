"""Probes for `dlcc course mutate A2` (never released): random float64 inputs for the
functions whose surviving mutants need the equivalence check (dlcc.course.authoring.equivalence)."""


def scalar_grad(m, rng):
    x, y = rng.uniform(-7, 7, size=2)
    return m.scalar_to_scalar_grad(float(x), float(y))


def vector_grad(m, rng):
    n = int(rng.integers(1, 6))
    return m.scalar_to_vector_grad(rng.normal(size=(n, 1)), rng.normal(size=(n, n)), rng.normal(size=(n, 1)))


def vjp(m, rng):
    rows, cols = (int(v) for v in rng.integers(1, 6, size=2))
    return m.tensor_to_tensor_grad(rng.normal(size=(rows, cols)), rng.normal(size=(rows, rows)),
                                   rng.normal(size=(cols, cols)), rng.normal(size=(rows, cols)))


PROBES = {
    "a2_autograd.scalar_to_scalar_grad": scalar_grad,
    "a2_autograd.scalar_to_vector_grad": vector_grad,
    "a2_autograd.tensor_to_tensor_grad": vjp,
}
