// Eigen's SVD of an n x n Gaussian matrix (BDCSVD and JacobiSVD, thin U and V), timed: the comparison
// point for LAPACK's gesdd through NumPy in bench/muon_speed.py (plrf.matrix uses NumPy's).
// Build: g++ -O3 -march=native -DNDEBUG -I cpp/third_party/eigen bench/cpp/svd_eigen.cpp -o build/svd_eigen
#include <Eigen/Dense>
#include <chrono>
#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 512, reps = argc > 2 ? std::atoi(argv[2]) : 3;
  Eigen::MatrixXd g = Eigen::MatrixXd::Random(n, n);
  double sink = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < reps; ++r) {
    Eigen::BDCSVD<Eigen::MatrixXd> svd(g, Eigen::ComputeThinU | Eigen::ComputeThinV);
    sink += (svd.matrixU() * svd.matrixV().transpose())(0, 0);
  }
  auto t1 = std::chrono::steady_clock::now();
  std::printf("eigen_bdcsvd n=%d seconds_per_svd=%.4f (check %.3g)\n", n,
              std::chrono::duration<double>(t1 - t0).count() / reps, sink);
  return 0;
}
