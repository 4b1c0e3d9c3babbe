"""The BLAS settings the console script makes before numpy loads, so that a fit's bytes do not depend on the machine."""

from pipeline.process import blas_settings

AVX2_CPU = frozenset({"sse2", "avx", "avx2", "fma", "bmi2"})


def test_one_thread_and_one_kernel_family_where_the_cpu_has_its_instructions():
    assert blas_settings({}, AVX2_CPU) == {"OPENBLAS_NUM_THREADS": "1", "OPENBLAS_CORETYPE": "Haswell"}


def test_no_kernels_are_forced_on_a_cpu_without_them():
    # Haswell kernels on a CPU without AVX2 or FMA stop the process on an illegal instruction.
    for flags in (frozenset({"sse2", "avx"}), frozenset({"sse2", "avx2"}), frozenset()):
        assert blas_settings({}, flags) == {"OPENBLAS_NUM_THREADS": "1"}


def test_a_setting_the_user_made_is_kept():
    given = {"OPENBLAS_NUM_THREADS": "8", "OPENBLAS_CORETYPE": "SkylakeX"}
    assert blas_settings(given, AVX2_CPU) == {}
    assert blas_settings({"OPENBLAS_CORETYPE": "Zen"}, AVX2_CPU) == {"OPENBLAS_NUM_THREADS": "1"}


def test_a_thread_count_the_user_gave_openblas_another_way_is_kept():
    # OpenBLAS reads GOTO_NUM_THREADS and OMP_NUM_THREADS too, after its own: setting its own overrode them.
    for name in ("GOTO_NUM_THREADS", "OMP_NUM_THREADS"):
        assert blas_settings({name: "2"}, AVX2_CPU) == {"OPENBLAS_CORETYPE": "Haswell"}
