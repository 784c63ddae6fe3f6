from localcloud.server import main

main()
