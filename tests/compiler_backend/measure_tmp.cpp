#include <iostream>
#include <chrono>
#include "compiler/backend/driver.h"
#include "platform/spec/arch.h"
int main(int, char** argv) {
  cimsim::CompileOptions o;
  o.model_path = argv[1]; o.arch_path = argv[2]; o.out_dir = argv[3]; if (argv[4]) o.mode = argv[4];
  try { cimsim::compile(o, std::cout); } catch (const std::exception& e) { std::cout << "ERROR: " << e.what() << "\n"; return 1; }
  return 0;
}
