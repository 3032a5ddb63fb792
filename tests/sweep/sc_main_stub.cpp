// libsystemc.so references sc_main; GoogleTest's main drives these tests.
extern "C" int sc_main(int, char**) { return 0; }
